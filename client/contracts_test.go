package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm/wasmbuild"
)

// TestContractsOnDevnet uploads the token contract (a real Go build, some
// 3 MB) in chunks, instantiates it in the default cluster, waits for the
// devnet's gatekeeper to put the contract's key on chain, and sends an
// encrypted command, which appears in its block's message list for the
// workers. The published chunks assemble to the code.
func TestContractsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and a worker, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	type built struct {
		code []byte
		err  error
	}
	build := make(chan built, 1)
	go func() {
		dir, err := filepath.Abs("../contracts/token")
		if err != nil {
			build <- built{err: err}
			return
		}
		code, err := wasmbuild.NewCache(t.TempDir()).Code(ctx, dir)
		build <- built{code, err}
	}()
	cl := teedevnet.Start(t, ctx, devworker.WorkerRole).Client
	b := <-build
	if b.err != nil {
		t.Fatal(b.err)
	}
	code := b.code
	// Bob deploys: alice and the TEE operators' relays send transactions
	// of their own.
	bob := ed25519.NewKeyFromSeed(keyring.DevSeed("bob"))
	bobAddr := address.FromPublicKey(bob.Public().(ed25519.PublicKey))

	startHeight, err := cl.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, err := cl.Account(ctx, bobAddr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	calls := 0
	up, err := cl.Upload(ctx, bob, code, client.UploadOptions{Progress: func(sent, total uint64) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("uploaded the token contract: %d bytes in %d chunks of %d bytes, %v (blocks %d..%d)", up.Size, up.Chunks, contractsapi.DefaultChunk, elapsed, startHeight+1, up.Last.Height)
	if up.Existed || up.Chunks != (len(code)+contractsapi.DefaultChunk-1)/contractsapi.DefaultChunk || calls != up.Chunks {
		t.Fatalf("upload %+v, %d progress calls", up, calls)
	}
	if c, err := cl.Code(ctx, up.CodeHash); err != nil || c.Size != uint64(len(code)) || c.Uploader != bobAddr || c.Height != up.Last.Height {
		t.Fatalf("code record %+v (%v)", c, err)
	}
	after, err := cl.Account(ctx, bobAddr)
	if err != nil {
		t.Fatal(err)
	}
	paid, _ := before.Balance.Sub(after.Balance)
	t.Logf("the upload cost %s (fees and the per-byte upload fee)", paid.PHAString())
	p, err := cl.ContractParams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if uploadFee, _ := p.UploadFee(len(code)); paid.Cmp(uploadFee) <= 0 {
		t.Fatalf("paid %s, less than the upload fee %s", paid.PHAString(), uploadFee.PHAString())
	}
	// The chunks on the message list assemble to the code.
	var assembled []byte
	for h := startHeight + 1; h <= up.Last.Height; h++ {
		for _, m := range blockMessages(t, ctx, cl, h) {
			if m.Topic != contractsapi.TopicCode {
				continue
			}
			ch, err := contractsapi.DecodeCodeChunk(m.Payload)
			if err != nil || ch.Offset != uint64(len(assembled)) || ch.CodeHash != up.CodeHash {
				t.Fatalf("chunk at block %d: %+v (%v)", h, ch, err)
			}
			assembled = append(assembled, ch.Chunk...)
		}
	}
	if !bytes.Equal(assembled, code) {
		t.Fatalf("the published chunks assemble to %d bytes, not the code's %d", len(assembled), len(code))
	}
	// The same code again sends nothing.
	if again, err := cl.Upload(ctx, bob, code, client.UploadOptions{}); err != nil || !again.Existed || again.Chunks != 0 {
		t.Fatalf("second upload %+v (%v)", again, err)
	}

	// An upload left unfinished resumes where the chain has it.
	small := bytes.Repeat([]byte("resumable "), 30)
	smallHash := contractsapi.Hash(sha256.Sum256(small))
	first, err := cl.Sign(ctx, bob, contractsapi.MethodUpload, contractsapi.Upload{CodeHash: smallHash, Size: uint64(len(small)), Chunk: small[:100]}, client.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SubmitAndWait(ctx, first); err != nil {
		t.Fatal(err)
	}
	if res, err := cl.Upload(ctx, bob, small, client.UploadOptions{ChunkSize: 100}); err != nil || res.Resumed != 100 || res.Chunks != 2 {
		t.Fatalf("resumed upload %+v (%v)", res, err)
	}
	if c, err := cl.Code(ctx, smallHash); err != nil || c.Size != uint64(len(small)) {
		t.Fatalf("resumed code %+v (%v)", c, err)
	}

	inst, err := cl.Instantiate(ctx, bob, up.CodeHash, client.InstantiateOptions{InitArgs: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := cl.Contract(ctx, inst.Contract); err != nil || c.Cluster != client.DefaultCluster || c.Deployer != bobAddr || c.CodeHash != up.CodeHash {
		t.Fatalf("contract %+v (%v)", c, err)
	}
	if _, err := cl.Command(ctx, bob, inst.Contract, "transfer", nil, client.CommandOptions{}); !errors.Is(err, contractsapi.ErrNoContractKey) {
		t.Fatalf("a command before the contract's key: %v", err)
	}
	keyStart := time.Now()
	for {
		pubs, err := cl.ContractKeys(ctx, client.DefaultCluster, inst.Contract[:])
		if err == nil && len(pubs) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the gatekeeper did not publish the contract's key: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Logf("contract key on chain %v after the instantiation's block", time.Since(keyStart))

	sent, err := cl.Command(ctx, bob, inst.Contract, "transfer", []byte(`{"to":"carol","amount":5}`), client.CommandOptions{GasLimit: 2_000_000, Value: token.PHA(1)})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Seq != 1 || sent.ReplyKey == nil || sent.Generation == 0 {
		t.Fatalf("command %+v", sent)
	}
	var found bool
	for _, m := range blockMessages(t, ctx, cl, sent.Height) {
		if m.Topic != contractsapi.TopicCommand {
			continue
		}
		cm, err := contractsapi.DecodeCommandMessage(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		found = cm.Seq == sent.Seq && cm.Contract == inst.Contract && cm.Sender == bobAddr && cm.GasLimit == 2_000_000 && cm.Value == token.PHA(1)
	}
	if !found {
		t.Fatalf("the command is not on block %d's message list", sent.Height)
	}
	if acc, err := cl.Account(ctx, contractsapi.ContractAccount(inst.Contract)); err != nil || acc.Balance != token.PHA(1) {
		t.Fatalf("contract account %+v (%v)", acc, err)
	}
	if list, err := cl.Contracts(ctx, contractsapi.Hash{}, 0); err != nil || len(list.Contracts) != 1 || list.Contracts[0].ID != inst.Contract {
		t.Fatalf("contracts %+v (%v)", list, err)
	}
}

// blockMessages reads block h's message list (chain/block).
func blockMessages(t *testing.T, ctx context.Context, cl *client.Client, h int64) []mq.Message {
	t.Helper()
	var b mq.Block
	if err := cl.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(h), &b); err != nil {
		t.Fatalf("block %d: %v", h, err)
	}
	return b.Messages
}
