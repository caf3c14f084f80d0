package workerwire

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/sigctx"
)

const wireChain = "wire-test"

func identity(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPlainReceiptOnlyForCommandsThatNeverOpened: without a reply key a
// receipt goes unsealed only if it says nothing secret; an answer holding
// both or neither form is refused.
func TestPlainReceiptOnlyForCommandsThatNeverOpened(t *testing.T) {
	id := identity(t)
	for _, tc := range []struct {
		name string
		r    Receipt
		ok   bool
	}{
		{"undecryptable", Receipt{Seq: 1, Status: contractsapi.StatusUndecryptable}, true},
		{"no key", Receipt{Seq: 1, Status: contractsapi.StatusNoKey, Generation: 2}, true},
		{"malformed", Receipt{Seq: 1, Status: contractsapi.StatusMalformed}, true},
		{"no contract", Receipt{Seq: 1, Status: contractsapi.StatusNoContract}, true},
		{"ok", Receipt{Seq: 1, Status: contractsapi.StatusOK}, false},
		{"reverted", Receipt{Seq: 1, Status: contractsapi.StatusReverted}, false},
		{"with gas", Receipt{Seq: 1, Status: contractsapi.StatusNoKey, GasUsed: 1}, false},
		{"with output", Receipt{Seq: 1, Status: contractsapi.StatusNoKey, Output: []byte("x")}, false},
		{"with events", Receipt{Seq: 1, Status: contractsapi.StatusNoKey, Events: []ReceiptEvent{{Topic: "t"}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SealReceipt(wireChain, 5, nil, tc.r, id)
			if (err == nil) != tc.ok {
				t.Fatalf("SealReceipt: %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				return
			}
			if r, err := s.Open(wireChain, BySeq(1), nil); err != nil || r.Status != tc.r.Status {
				t.Fatalf("Open: %+v %v", r, err)
			}
		})
	}
	reply, _ := envelope.GenerateKey(envelope.Default)
	s, err := SealReceipt(wireChain, 5, reply.PublicKey().Bytes(), Receipt{Seq: 1, Status: contractsapi.StatusOK}, id)
	if err != nil {
		t.Fatal(err)
	}
	both := s
	both.Plain = codec.MustMarshal(Receipt{Seq: 1, Status: contractsapi.StatusNoKey})
	neither := s
	neither.Sealed = nil
	for name, bad := range map[string]SignedReceipt{"both": both, "neither": neither} {
		bad.Signature = sigctx.WorkerReceipt.Sign(id, wireChain, bad.SigningBytes())
		if _, err := bad.Open(wireChain, BySeq(1), reply); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestPlainReceiptChecked: a signed plain receipt that claims gas or
// output, or names another command than its answer, is refused.
func TestPlainReceiptChecked(t *testing.T) {
	id := identity(t)
	for name, r := range map[string]Receipt{
		"secret inside":   {Seq: 1, Status: contractsapi.StatusOK, Output: []byte("balance 5")},
		"another command": {Seq: 2, Status: contractsapi.StatusNoKey},
		"another tx":      {Seq: 1, Status: contractsapi.StatusNoKey, TxHash: contractsapi.Hash{9}},
	} {
		s := SignedReceipt{ChainID: wireChain, Height: 5, Seq: 1, Plain: codec.MustMarshal(r), Worker: id.Public().(ed25519.PublicKey)}
		s.Signature = sigctx.WorkerReceipt.Sign(id, wireChain, s.SigningBytes())
		if _, err := s.Open(wireChain, BySeq(1), nil); err == nil {
			t.Fatalf("%s: opened", name)
		}
	}
}

// TestReceiptErrors: what went wrong, in words: the generation, the gas
// used, the contract's text.
func TestReceiptErrors(t *testing.T) {
	for _, tc := range []struct {
		r    Receipt
		want []string
	}{
		{Receipt{Seq: 3, Status: contractsapi.StatusOK}, nil},
		{Receipt{Seq: 3, Status: contractsapi.StatusUndecryptable, Generation: 2}, []string{"command 3", "undecryptable", "generation 2"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusNoKey, Generation: 4}, []string{"key generation 4", "does not hold"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusNoContract}, []string{"unknown contract"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusMalformed}, []string{"malformed"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusOutOfGas, GasUsed: 1000}, []string{"out of gas", "all 1000 gas"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusReverted, GasUsed: 77, Output: []byte("insufficient balance")}, []string{"reverted", "77", "insufficient balance"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusTrap, GasUsed: 5, Output: []byte("panic: x")}, []string{"trapped", "panic: x"}},
		{Receipt{Seq: 3, Status: contractsapi.StatusVMError, GasUsed: 5}, []string{"vm error"}},
	} {
		err := tc.r.Err()
		if (err == nil) != (tc.want == nil) {
			t.Fatalf("%s: %v", tc.r.Status, err)
		}
		var ce *CommandError
		if err != nil && (!errors.As(err, &ce) || ce.Status != tc.r.Status || ce.GasUsed != tc.r.GasUsed) {
			t.Fatalf("%s: %#v", tc.r.Status, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.r.Status, err, w)
			}
		}
	}
}

// FuzzOpenPlainReceipt: a worker's plain receipt is untrusted bytes; Open
// either refuses it with a coded error or returns a receipt fit to travel
// unsealed, about the command asked for.
func FuzzOpenPlainReceipt(f *testing.F) {
	id := identity(f)
	f.Add(codec.MustMarshal(Receipt{Seq: 1, Status: contractsapi.StatusNoKey}))
	f.Add(codec.MustMarshal(Receipt{Seq: 1, Status: contractsapi.StatusOK, GasUsed: 3}))
	f.Add([]byte{0x89})
	f.Fuzz(func(t *testing.T, plain []byte) {
		s := SignedReceipt{ChainID: wireChain, Height: 5, Seq: 1, Plain: plain, Worker: id.Public().(ed25519.PublicKey)}
		s.Signature = sigctx.WorkerReceipt.Sign(id, wireChain, s.SigningBytes())
		r, err := s.Open(wireChain, BySeq(1), nil)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMismatch) {
				t.Fatalf("uncoded refusal: %v", err)
			}
			return
		}
		if r.Seq != 1 || !NeverOpened(r.Status) || r.GasUsed != 0 || len(r.Output) != 0 || len(r.Events) != 0 {
			t.Fatalf("accepted %+v", r)
		}
	})
}
