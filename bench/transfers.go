package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/big"
	"runtime"
	"sync"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/network"
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

// genesisAppState is the devnet's application genesis with alice's
// allocation split evenly between alice and the senders. Only the bank
// section changes, so the other modules keep their devnet genesis.
func genesisAppState(senders []sender) (json.RawMessage, error) {
	raw, err := network.DevAppState(false)
	if err != nil {
		return nil, err
	}
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sections); err != nil {
		return nil, fmt.Errorf("devnet genesis: %w", err)
	}
	var g bank.Genesis
	if err := json.Unmarshal(sections[bankapi.Name], &g); err != nil {
		return nil, fmt.Errorf("devnet genesis, section %s: %w", bankapi.Name, err)
	}
	alice := network.DevAccounts()[0].Address
	var allocs []bank.Allocation
	for _, a := range g.Allocations {
		if a.Address != alice {
			allocs = append(allocs, a)
			continue
		}
		share, err := splitEvenly(a.Amount, 1+len(senders))
		if err != nil {
			return nil, err
		}
		a.Amount = share[0]
		allocs = append(allocs, a)
		for i, s := range senders {
			allocs = append(allocs, bank.Allocation{Purpose: a.Purpose, Address: s.addr, Amount: share[1+i]})
		}
	}
	g.Allocations = allocs
	if sections[bankapi.Name], err = json.Marshal(g); err != nil {
		return nil, err
	}
	return json.Marshal(sections)
}

// splitEvenly divides total into n parts that sum to it exactly.
func splitEvenly(total token.Amount, n int) ([]token.Amount, error) {
	q, r := new(big.Int).QuoRem(total.Big(), big.NewInt(int64(n)), new(big.Int))
	out := make([]token.Amount, n)
	for i := range out {
		part := new(big.Int).Set(q)
		if int64(i) < r.Int64() {
			part.Add(part, big.NewInt(1))
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
	probe, err := signTransfer(s, s.addr, 1<<31, bankapi.TotalSupply)
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

// gasLimit is what a transfer needs exactly, as a careful wallet sets it.
const gasLimit = bankapi.TransferGas

func signTransfer(from sender, to address.Address, nonce uint64, fee token.Amount) ([]byte, error) {
	env, err := tx.New(ChainID, from.pub, nonce, fee, gasLimit, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: transferAmount})
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
				if ctx.Err() != nil {
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

// splitBySender deals the transactions signTransfers made for n senders out
// to feeders sources: each sender's go to one source, in nonce order.
func splitBySender(txs [][]byte, n, feeders int) []func() []byte {
	parts := make([][][]byte, feeders)
	for k, raw := range txs {
		j := (k % n) % feeders
		parts[j] = append(parts[j], raw)
	}
	sources := make([]func() []byte, feeders)
	for j, part := range parts {
		sources[j] = func() []byte {
			if len(part) == 0 {
				return nil
			}
			raw := part[0]
			part = part[1:]
			return raw
		}
	}
	return sources
}
