package cometrpc_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/internal/devnettest"
	"github.com/phala-go/phala/token"
)

// The differential test: every call against a real node, compared with
// what CometBFT's own RPC client and types make of the same answers.

type pair struct {
	ours *cometrpc.Client
	ref  *rpchttp.HTTP
	inc  client.Included // a committed transfer
}

func start(t *testing.T) (context.Context, pair) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	v, cl := devnettest.Start(t, ctx)
	bob := address.FromPublicKey(devnettest.DevKey("bob").Public().(ed25519.PublicKey))
	inc, err := cl.Transfer(ctx, devnettest.DevKey("alice"), bob, token.PHA(1), client.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Node.WaitHeight(ctx, inc.Height+2); err != nil {
		t.Fatal(err)
	}
	ours, err := cometrpc.New(v.Node.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := rpchttp.New(v.Node.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	return ctx, pair{ours: ours, ref: ref, inc: inc}
}

// must(call())(t) is call's value, or fails t.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: ours %v, CometBFT's %v", what, got, want)
	}
}

func sameEncoding(t *testing.T, what string, ours, ref proto.Marshaler) {
	t.Helper()
	a, errA := ours.Marshal()
	b, errB := ref.Marshal()
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("%s: encodings differ (%v, %v)\nours %X\nref  %X", what, errA, errB, a, b)
	}
}

func TestAgainstCometBFT(t *testing.T) {
	ctx, p := start(t)
	t.Run("status", func(t *testing.T) { compareStatus(ctx, t, p) })
	t.Run("abci_query", func(t *testing.T) { compareQuery(ctx, t, p) })
	t.Run("abci_query proven", func(t *testing.T) { compareProvenQuery(ctx, t, p) })
	t.Run("tx", func(t *testing.T) { compareTx(ctx, t, p) })
	t.Run("broadcast", func(t *testing.T) { compareBroadcast(ctx, t, p) })
	t.Run("block", func(t *testing.T) { compareBlocks(ctx, t, p) })
	t.Run("commit", func(t *testing.T) { compareCommits(ctx, t, p) })
	t.Run("validators", func(t *testing.T) { compareValidators(ctx, t, p) })
	t.Run("blockchain", func(t *testing.T) { compareBlockchain(ctx, t, p) })
	t.Run("batch", func(t *testing.T) { batchMatchesSingleCalls(ctx, t, p) })
}

func compareStatus(ctx context.Context, t *testing.T, p pair) {
	ours := must(p.ours.Status(ctx))(t)
	ref := must(p.ref.Status(ctx))(t)
	same(t, "chain", ours.NodeInfo.Network, ref.NodeInfo.Network)
	same(t, "node id", ours.NodeInfo.ID, string(ref.NodeInfo.DefaultNodeID))
	same(t, "moniker", ours.NodeInfo.Moniker, ref.NodeInfo.Moniker)
	same(t, "earliest height", ours.SyncInfo.EarliestBlockHeight, ref.SyncInfo.EarliestBlockHeight)
	same(t, "earliest hash", ours.SyncInfo.EarliestBlockHash.String(), ref.SyncInfo.EarliestBlockHash.String())
	same(t, "earliest time", ours.SyncInfo.EarliestBlockTime, ref.SyncInfo.EarliestBlockTime)
	same(t, "validator address", ours.ValidatorInfo.Address.String(), ref.ValidatorInfo.Address.String())
	same(t, "validator key", ours.ValidatorInfo.PubKey.Value, ref.ValidatorInfo.PubKey.Bytes())
	same(t, "validator power", ours.ValidatorInfo.VotingPower, ref.ValidatorInfo.VotingPower)
	if ours.SyncInfo.LatestBlockHeight <= 0 || ours.SyncInfo.LatestBlockHeight > ref.SyncInfo.LatestBlockHeight {
		t.Fatalf("latest height %d, CometBFT's client later saw %d", ours.SyncInfo.LatestBlockHeight, ref.SyncInfo.LatestBlockHeight)
	}
}

func compareQuery(ctx context.Context, t *testing.T, p pair) {
	for _, q := range []struct {
		path string
		data []byte
	}{{bankapi.QueryParams, nil}, {"/nonexistent", []byte{1, 2}}} {
		ours := must(p.ours.ABCIQuery(ctx, q.path, q.data))(t)
		ref := must(p.ref.ABCIQuery(ctx, q.path, q.data))(t).Response
		same(t, q.path+" code", ours.Code, ref.Code)
		same(t, q.path+" codespace", ours.Codespace, ref.Codespace)
		same(t, q.path+" log", ours.Log, ref.Log)
		same(t, q.path+" value", []byte(ours.Value), ref.Value)
	}
}

// compareProvenQuery checks the proof's JSON field names and encodings:
// a state query at a past height, with its proof, for a present and an
// absent account.
func compareProvenQuery(ctx context.Context, t *testing.T, p pair) {
	h := p.inc.Height
	alice := address.FromPublicKey(devnettest.DevKey("alice").Public().(ed25519.PublicKey))
	for _, key := range [][]byte{bankapi.AccountKeyOf(alice), bankapi.AccountKeyOf(address.Address{0xee})} {
		ours := must(p.ours.ABCIQueryAt(ctx, chainapi.QueryState, key, h, true))(t)
		ref := must(p.ref.ABCIQueryWithOptions(ctx, chainapi.QueryState, key, rpcclient.ABCIQueryOptions{Height: h, Prove: true}))(t).Response
		same(t, "code", ours.Code, ref.Code)
		same(t, "height", ours.Height, ref.Height)
		same(t, "key", ours.Key, ref.Key)
		same(t, "value", ours.Value, ref.Value)
		if ours.ProofOps == nil || ref.ProofOps == nil || len(ours.ProofOps.Ops) != len(ref.ProofOps.Ops) || len(ref.ProofOps.Ops) == 0 {
			t.Fatalf("proof: ours %v, CometBFT's %v", ours.ProofOps, ref.ProofOps)
		}
		for i, op := range ours.ProofOps.Ops {
			r := ref.ProofOps.Ops[i]
			same(t, "proof op", fmt.Sprintf("%s %X %X", op.Type, op.Key, op.Data), fmt.Sprintf("%s %X %X", r.Type, r.Key, r.Data))
		}
	}
	// Without prove, no proof.
	ours := must(p.ours.ABCIQueryAt(ctx, chainapi.QueryState, bankapi.AccountKeyOf(alice), h, false))(t)
	if ours.ProofOps != nil {
		t.Fatalf("proof without asking: %v", ours.ProofOps)
	}
}

func compareTx(ctx context.Context, t *testing.T, p pair) {
	ours := must(p.ours.Tx(ctx, p.inc.Hash[:]))(t)
	ref := must(p.ref.Tx(ctx, p.inc.Hash[:], false))(t)
	same(t, "hash", ours.Hash.String(), ref.Hash.String())
	same(t, "height", ours.Height, ref.Height)
	same(t, "index", ours.Index, ref.Index)
	same(t, "tx", ours.Tx, []byte(ref.Tx))
	r, rr := ours.TxResult, ref.TxResult
	same(t, "result", fmt.Sprint(r.Code, r.Codespace, r.Log, r.Info, r.GasWanted, r.GasUsed), fmt.Sprint(rr.Code, rr.Codespace, rr.Log, rr.Info, rr.GasWanted, rr.GasUsed))
	same(t, "events", len(r.Events), len(rr.Events))
	for i, e := range r.Events {
		same(t, "event type", e.Type, rr.Events[i].Type)
		for j, a := range e.Attributes {
			ra := rr.Events[i].Attributes[j]
			same(t, "attribute", fmt.Sprint(a.Key, a.Value, a.Index), fmt.Sprint(ra.Key, ra.Value, ra.Index))
		}
	}
	var missing [32]byte
	_, err := p.ours.Tx(ctx, missing[:])
	if rpcErr, ok := errors.AsType[*cometrpc.RPCError](err); !ok || !rpcErr.NotFound() || !errors.Is(err, cometrpc.ErrRPC) {
		t.Fatalf("an unknown hash: %v, want a not-found RPC error", err)
	}
}

func compareBroadcast(ctx context.Context, t *testing.T, p pair) {
	_, err := p.ours.BroadcastTxSync(ctx, []byte{1, 2})
	_, refErr := p.ref.BroadcastTxSync(ctx, []byte{1, 2})
	rpcErr, ok := errors.AsType[*cometrpc.RPCError](err)
	if !ok || refErr == nil || !bytes.Contains([]byte(refErr.Error()), []byte(rpcErr.Data)) {
		t.Fatalf("malformed tx: ours %v, CometBFT's %v", err, refErr)
	}
	// Already committed: the cache refuses it; both clients see the same text.
	tx := must(p.ours.Tx(ctx, p.inc.Hash[:]))(t).Tx
	_, err = p.ours.BroadcastTxSync(ctx, tx)
	_, refErr = p.ref.BroadcastTxSync(ctx, tx)
	if rpcErr, ok := errors.AsType[*cometrpc.RPCError](err); !ok || refErr == nil || !bytes.Contains([]byte(refErr.Error()), []byte(rpcErr.Data)) {
		t.Fatalf("a committed tx again: ours %v, CometBFT's %v", err, refErr)
	}
}

func compareBlocks(ctx context.Context, t *testing.T, p pair) {
	for h := int64(1); h <= p.inc.Height+1; h++ {
		ours := must(p.ours.Block(ctx, h))(t)
		ref := must(p.ref.Block(ctx, &h))(t)
		same(t, "block id", ours.BlockID.Hash.String(), ref.BlockID.Hash.String())
		refID := ref.BlockID.ToProto()
		sameEncoding(t, "block id", ours.BlockID.Proto(), &refID)
		sameEncoding(t, "header", ours.Block.Header.Proto(), ref.Block.Header.ToProto())
		same(t, "header hash", []byte(ours.Block.Header.Hash()), []byte(ref.Block.Header.Hash()))
		sameEncoding(t, "last commit", ours.Block.LastCommit.Proto(), ref.Block.LastCommit.ToProto())
		same(t, "txs", len(ours.Block.Txs), len(ref.Block.Txs))
		for i, tx := range ours.Block.Txs {
			same(t, "tx", tx, []byte(ref.Block.Txs[i]))
		}
		same(t, "time", ours.Block.Time, ref.Block.Time)
	}
	latest := must(p.ours.Block(ctx, 0))(t)
	if latest.Block.Height < p.inc.Height+2 {
		t.Fatalf("newest block %d", latest.Block.Height)
	}
}

func compareCommits(ctx context.Context, t *testing.T, p pair) {
	for h := int64(1); h <= p.inc.Height+1; h++ {
		ours := must(p.ours.Commit(ctx, h))(t)
		ref := must(p.ref.Commit(ctx, &h))(t)
		sameEncoding(t, "signed header", ours.SignedHeader.Header.Proto(), ref.SignedHeader.Header.ToProto())
		sameEncoding(t, "commit", ours.SignedHeader.Commit.Proto(), ref.SignedHeader.Commit.ToProto())
		same(t, "canonical", ours.Canonical, ref.CanonicalCommit)
	}
}

func compareValidators(ctx context.Context, t *testing.T, p pair) {
	h := p.inc.Height
	ours := must(p.ours.Validators(ctx, h, 1, 100))(t)
	page, perPage := 1, 100
	ref := must(p.ref.Validators(ctx, &h, &page, &perPage))(t)
	same(t, "total", ours.Total, ref.Total)
	set := must(cometrpc.NewValidatorSet(ours.Validators))(t)
	refSet := cmttypes.NewValidatorSet(ref.Validators)
	same(t, "set hash", set.Hash(), []byte(refSet.Hash()))
	refProto := must(refSet.ToProto())(t)
	sameEncoding(t, "validator set", set.Proto(), refProto)
	header := must(p.ref.Header(ctx, &h))(t).Header
	same(t, "set hash in header", set.Hash(), []byte(header.ValidatorsHash))
}

func compareBlockchain(ctx context.Context, t *testing.T, p pair) {
	hi := p.inc.Height + 1
	ours := must(p.ours.Blockchain(ctx, 1, hi))(t)
	ref := must(p.ref.BlockchainInfo(ctx, 1, hi))(t)
	same(t, "metas", len(ours.BlockMetas), len(ref.BlockMetas))
	for i, m := range ours.BlockMetas {
		r := ref.BlockMetas[i]
		sameEncoding(t, "meta header", m.Header.Proto(), r.Header.ToProto())
		refID := r.BlockID.ToProto()
		sameEncoding(t, "meta block id", m.BlockID.Proto(), &refID)
		same(t, "meta size and txs", fmt.Sprint(m.BlockSize, m.NumTxs), fmt.Sprint(r.BlockSize, r.NumTxs))
	}
}

func batchMatchesSingleCalls(ctx context.Context, t *testing.T, p pair) {
	var st cometrpc.Status
	var q cometrpc.QueryResponse
	var chain cometrpc.Blockchain
	if err := p.ours.Do(ctx, cometrpc.StatusRequest(&st), cometrpc.ABCIQueryRequest(bankapi.QueryParams, nil, &q), cometrpc.BlockchainRequest(1, 2, &chain)); err != nil {
		t.Fatal(err)
	}
	single := must(p.ours.ABCIQuery(ctx, bankapi.QueryParams, nil))(t)
	same(t, "batched query", []byte(q.Value), []byte(single.Value))
	same(t, "batched status", st.NodeInfo.Network, "phala-devnet")
	same(t, "batched headers", len(chain.BlockMetas), 2)

	// CometBFT's default limit is 10 calls a batch.
	reqs := make([]cometrpc.Request, 11)
	for i := range reqs {
		reqs[i] = cometrpc.StatusRequest(new(cometrpc.Status))
	}
	err := p.ours.Do(ctx, reqs...)
	if rpcErr, ok := errors.AsType[*cometrpc.RPCError](err); !ok || !rpcErr.BatchTooLarge() {
		t.Fatalf("a batch of 11: %v, want a batch-size refusal", err)
	}
}
