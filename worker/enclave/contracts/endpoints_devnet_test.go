package contracts_test

import (
	"context"
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/network/devworker"
)

// TestEndpointsOnDevnet: the devnet's workers publish their public API on
// chain, and a client configured with no worker finds them there
// (contract → cluster → workers → endpoints): it gets a command's receipt
// by the transaction's hash, runs a query, and reads the events addressed
// to an account by a signed request (each party its own, a stranger
// none). A command sealed to the wrong key gets its coded receipt, plain,
// within a few blocks instead of a timeout.
func TestEndpointsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and two workers, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	code := buildToken(t)
	d := teedevnet.Start(t, ctx, devworker.WorkerRoles...)
	cl := d.Client
	bob := ed25519.NewKeyFromSeed(keyring.DevSeed("bob"))
	carol := ed25519.NewKeyFromSeed(keyring.DevSeed("carol"))
	carolAddr := address.FromPublicKey(carol.Public().(ed25519.PublicKey))

	// Both workers' endpoints on chain, as they listen.
	for {
		ws, err := cl.ClusterWorkers(ctx, client.DefaultCluster)
		if err != nil {
			t.Fatal(err)
		}
		var urls []string
		for _, w := range ws {
			if w.Active && w.URL != "" {
				urls = append(urls, w.URL)
			}
		}
		slices.Sort(urls)
		want := d.WorkerURLs()
		slices.Sort(want)
		if slices.Equal(urls, want) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("endpoints on chain %v, workers listen at %v", urls, want)
		case <-time.After(100 * time.Millisecond):
		}
	}

	inst := deployToken(t, ctx, cl, bob, code)
	noWorkers := client.ReceiptOptions{Cluster: client.DefaultCluster, Poll: 20 * time.Millisecond}
	sent, err := cl.Command(ctx, bob, inst.Contract, "transfer", []byte(transfer(carolAddr, 7)), client.CommandOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := cl.WaitReceiptTx(ctx, sent.Hash, sent.ReplyKey, noWorkers)
	if err != nil {
		t.Fatal(err)
	}
	if a.Err() != nil || a.Seq != sent.Seq || a.TxHash != contractsapi.Hash(sent.Hash) || a.Generation != sent.Generation || !a.Assigned || !slices.Contains(d.WorkerURLs(), a.URL) {
		t.Fatalf("receipt by transaction %x: %+v (%v)", sent.Hash, a, a.Err())
	}

	// A query, with no worker named either. The workers follow the chain
	// each at its own pace: the first listed may not have run the block
	// yet, so ask until one answers at a height past it.
	caughtUp := func(name string, answeredAt int64, err error) bool {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if answeredAt > sent.Height {
			return true
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no worker past block %d", name, sent.Height)
		case <-time.After(50 * time.Millisecond):
		}
		return false
	}
	for {
		q, err := cl.ContractQuery(ctx, inst.Contract, "balance", []byte(`{}`), client.QueryOptions{Key: carol})
		if caughtUp("query", q.AnsweredAt, err) {
			if q.Err() != nil || string(q.Output) != "7" || !q.Assigned {
				t.Fatalf("carol's balance: %+v", q)
			}
			break
		}
	}

	// The transfer's event, for each party by its own signed request.
	for _, tc := range []struct {
		name string
		key  ed25519.PrivateKey
		want int
	}{{"bob", bob, 1}, {"carol", carol, 1}, {"stranger", ed25519.NewKeyFromSeed(keyring.DevSeed("dave")), 0}} {
		for {
			ev, err := cl.AccountEvents(ctx, tc.key, client.EventsOptions{Contract: inst.Contract})
			if !caughtUp(tc.name, ev.AnsweredAt, err) {
				continue
			}
			if len(ev.Events) != tc.want || !ev.Assigned {
				t.Fatalf("%s: %+v", tc.name, ev)
			}
			if tc.want > 0 && (ev.Events[0].Seq != sent.Seq || ev.Events[0].Topic != "token.transfer" || ev.Events[0].Contract != inst.Contract) {
				t.Fatalf("%s: event %+v", tc.name, ev.Events[0])
			}
			break
		}
	}

	// A command sealed to a key that is not the contract's: the chain
	// takes it (it cannot tell), the workers cannot open it, and the
	// sender learns so from a plain receipt in a few blocks.
	wrong, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	plain := codec.MustMarshal(contractsapi.CommandPlain{Method: "transfer", Args: []byte(transfer(carolAddr, 1)), ReplyKey: wrong.PublicKey().Bytes()})
	bobAddr := address.FromPublicKey(bob.Public().(ed25519.PublicKey))
	chainID, err := cl.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := envelope.Seal(chainID, envelope.Command, wrong.PublicKey(), plain, contractsapi.CommandAAD(inst.Contract, bobAddr))
	if err != nil {
		t.Fatal(err)
	}
	inc, err := cl.Send(ctx, bob, contractsapi.MethodCommand, contractsapi.Command{Contract: inst.Contract, Generation: sent.Generation, Sealed: sealed, GasLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a, err = cl.WaitReceiptTx(ctx, inc.Hash, nil, noWorkers)
	if err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	t.Logf("undecryptable command's receipt %v after its block", waited)
	if a.Status != contractsapi.StatusUndecryptable || a.GasUsed != 0 || a.Err() == nil || !strings.Contains(a.Err().Error(), "undecryptable") || waited > 20*time.Second {
		t.Fatalf("receipt %+v (%v) after %v", a, a.Err(), waited)
	}
}
