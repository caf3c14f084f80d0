package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/token"
)

// transferAmount is what every benchmark transfer moves: recipients are
// other funded senders, so no transfer creates an account.
var transferAmount = token.FromUint64(1_000)

// sender is one funded benchmark account.
type sender struct {
	key  ed25519.PrivateKey
	pub  ed25519.PublicKey
	addr address.Address
}

// newSenders derives n deterministic, public (worthless) keys, like the
// devnet's alice, bob and carol.
func newSenders(n int) []sender {
	out := make([]sender, n)
	for i := range out {
		key := ed25519.NewKeyFromSeed(keyring.DevSeed(fmt.Sprintf("bench-sender-%d", i)))
		pub := key.Public().(ed25519.PublicKey)
		out[i] = sender{key: key, pub: pub, addr: address.FromPublicKey(pub)}
	}
	return out
}

// genesisAppState is the devnet's genesis with alice's private-placement
// allocation split evenly across the senders.
func genesisAppState(senders []sender) (json.RawMessage, error) {
	dev := network.DevAccounts()
	g := bank.DefaultGenesis(dev[0].Address, dev[1].Address, dev[2].Address)
	var allocs []bank.Allocation
	for _, a := range g.Allocations {
		if a.Address != dev[0].Address {
			allocs = append(allocs, a)
			continue
		}
		share, err := splitEvenly(a.Amount, len(senders))
		if err != nil {
			return nil, err
		}
		for i, s := range senders {
			amt := share[i]
			allocs = append(allocs, bank.Allocation{Purpose: a.Purpose, Address: s.addr, Name: fmt.Sprintf("bench-sender-%d", i), Amount: amt})
		}
	}
	g.Allocations = allocs
	ag, err := app.DefaultGenesis(g)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ag)
}

// splitEvenly divides total into n parts that sum to it exactly.
func splitEvenly(total token.Amount, n int) ([]token.Amount, error) {
	t := total.Big()
	q, r := t.QuoRem(t, bigInt(int64(n)), bigInt(0))
	out := make([]token.Amount, n)
	for i := range out {
		part := bigInt(0).Set(q)
		if int64(i) < r.Int64() {
			part.Add(part, bigInt(1))
		}
		a, err := token.FromBig(part)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// transferFee is a fee that covers the largest transfer the benchmark signs
// under the genesis fee rules: the size is probed with the largest fee
// encoding, as the client does, and a nonce beyond any the run will use.
func transferFee() (token.Amount, error) {
	s := newSenders(1)[0]
	probe, err := signTransfer(s, s.addr, 1<<31, bank.TotalSupply)
	if err != nil {
		return token.Amount{}, err
	}
	return bank.DefaultParams().Fee(len(probe))
}

// TransferSize is the size in bytes of a typical benchmark transfer (the
// trivial application's transactions have this size).
func TransferSize() (int, error) {
	fee, err := transferFee()
	if err != nil {
		return 0, err
	}
	s := newSenders(2)
	raw, err := signTransfer(s[0], s[1].addr, 100, fee)
	return len(raw), err
}

func signTransfer(from sender, to address.Address, nonce uint64, fee token.Amount) ([]byte, error) {
	env, err := tx.New(ChainID, from.pub, nonce, fee, client.DefaultGasLimit, bank.MethodTransfer, bank.Transfer{To: to, Amount: transferAmount})
	if err != nil {
		return nil, err
	}
	return env.Sign(from.key)
}

// signTransfers signs count transfers on all cores. Transaction k is sender
// k mod N's transfer with nonce k / N to the next sender, so submitting them
// in order keeps every sender's nonces in sequence.
func signTransfers(ctx context.Context, senders []sender, count int, fee token.Amount) ([][]byte, error) {
	n := len(senders)
	out := make([][]byte, count)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < count; k += workers {
				if k%4096 == w && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				raw, err := signTransfer(senders[k%n], senders[(k+1)%n].addr, uint64(k/n), fee)
				if err != nil {
					errs[w] = err
					return
				}
				out[k] = raw
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// startPhala starts the phala application and its node in home.
func startPhala(ctx context.Context, home node.Home) (*network.Validator, error) {
	return network.Start(ctx, home, slog.New(slog.DiscardHandler), startOptions()...)
}
