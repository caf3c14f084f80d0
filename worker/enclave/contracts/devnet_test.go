package contracts_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
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
)

// settled waits for the worker's results for the block at height to be
// accepted on chain and returns them with the height they landed at.
func settled(t *testing.T, ctx context.Context, cl *client.Client, height int64) (contractsapi.Results, int64) {
	t.Helper()
	var lastErr error
	for h := height + 1; ; {
		latest, err := cl.LatestHeight(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for ; h <= latest; h++ {
			var b mq.Block
			if err := cl.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(h), &b); err != nil {
				// The node's status can name a block the application is
				// still committing: ask again shortly.
				lastErr = err
				break
			}
			for _, m := range b.Messages {
				if m.Topic != mq.TopicEgress {
					continue
				}
				rp, err := mq.DecodeRepublished(m.Payload)
				if err != nil || rp.Egress.Egress.Topic != contractsapi.TopicResults {
					continue
				}
				r, err := contractsapi.DecodeResults(rp.Egress.Egress.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if r.Height != height {
					continue
				}
				if rp.Outcome != mq.OutcomeAccepted {
					t.Fatalf("the chain did not accept the results for height %d: outcome %v", height, rp.Outcome)
				}
				return r, h
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no results for height %d by height %d (last query error: %v)", height, h-1, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestWorkersExecuteOnDevnet deploys the token on an in-process devnet,
// sends a transfer that runs in the devnet's worker, waits for its
// results on chain and checks the sender got the unused gas back; then a
// command with too little gas reports out of gas with all its gas used
// and no refund.
// deployToken uploads and instantiates the token (supply 1,000 to key)
// and waits for the gatekeeper to publish its key.
func deployToken(t *testing.T, ctx context.Context, cl *client.Client, key ed25519.PrivateKey, code []byte) client.Instantiated {
	t.Helper()
	up, err := cl.Upload(ctx, key, code, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := cl.Instantiate(ctx, key, up.CodeHash, client.InstantiateOptions{InitArgs: []byte(`{"supply":1000}`)})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if pubs, err := cl.ContractKeys(ctx, client.DefaultCluster, inst.Contract[:]); err == nil && len(pubs) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the gatekeeper did not publish the contract's key")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return inst
}

func TestWorkersExecuteOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and a worker, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	code := buildToken(t)
	cl := teedevnet.Start(t, ctx, devworker.WorkerRole).Client
	bob := ed25519.NewKeyFromSeed(keyring.DevSeed("bob"))
	bobAddr := address.FromPublicKey(bob.Public().(ed25519.PublicKey))
	inst := deployToken(t, ctx, cl, bob, code)
	p, err := cl.ContractParams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	carol := address.Module("carol")
	for _, tc := range []struct {
		name   string
		gas    uint64
		status contractsapi.Status
	}{
		{"transfer", 100_000_000, contractsapi.StatusOK},
		{"out of gas", 2_000, contractsapi.StatusOutOfGas},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent, err := cl.Command(ctx, bob, inst.Contract, "transfer", []byte(transfer(carol, 5)), client.CommandOptions{GasLimit: tc.gas})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r, at := settled(t, ctx, cl, sent.Height)
			t.Logf("results for block %d (%d commands) landed at block %d, %v after inclusion", sent.Height, len(r.Commands), at, time.Since(start))
			if len(r.Commands) != 1 || r.Commands[0].Seq != sent.Seq || r.Commands[0].Status != tc.status || len(r.Roots) != 1 || r.Roots[0].Contract != inst.Contract {
				t.Fatalf("results %+v", r)
			}
			used := r.Commands[0].GasUsed
			if tc.status == contractsapi.StatusOutOfGas && used != tc.gas {
				t.Fatalf("out of gas used %d, limit %d", used, tc.gas)
			}
			// Bob's balance after the command's block and after the
			// results' block: he sent nothing in between.
			before, after := balanceAt(t, ctx, cl, bobAddr, sent.Height), balanceAt(t, ctx, cl, bobAddr, at)
			want, err := p.GasPrice.MulUint64(tc.gas - used)
			if err != nil {
				t.Fatal(err)
			}
			got, err := after.Sub(before)
			if err != nil || got != want {
				t.Fatalf("bob got back %s (%v), want %s (gas %d of %d)", got.PHAString(), err, want.PHAString(), used, tc.gas)
			}
			t.Logf("gas used %d of %d; refunded %s", used, tc.gas, got.PHAString())
		})
	}
	if escrow, err := cl.Account(ctx, contractsapi.Escrow); err != nil || escrow.Balance != (token.Amount{}) {
		t.Fatalf("escrow %+v (%v): not empty after settlement", escrow, err)
	}
}

// balanceAt is a's balance in the state after block h.
func balanceAt(t *testing.T, ctx context.Context, cl *client.Client, a address.Address, h int64) token.Amount {
	t.Helper()
	ans, err := cl.StateAt(ctx, bankapi.AccountKeyOf(a), h, false)
	if err != nil || !ans.Found {
		t.Fatalf("account %s at %d: %v", a, h, err)
	}
	var acc bankapi.Account
	if err := codec.Unmarshal(ans.Value, &acc); err != nil {
		t.Fatal(err)
	}
	return acc.Balance
}
