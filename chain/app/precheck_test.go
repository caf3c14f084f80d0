package app

import (
	"context"
	"sync"
	"testing"

	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// PreCheckTx must change how fast CheckTx and FinalizeBlock answer, never
// what they answer.
func TestPreCheckTxChangesNoVerdict(t *testing.T) {
	alice, bob, dave := devAccount("alice"), devAccount("bob"), devAccount("dave")
	good := txOpts{from: alice, to: dave.addr, amount: token.PHA(5)}
	tests := []struct {
		name string
		raw  func() []byte
	}{
		{"valid", func() []byte { return transfer(t, good) }},
		{"wrongly signed", func() []byte {
			s, _ := tx.Decode(transfer(t, good))
			b, _ := s.Envelope.Sign(bob.key)
			return b
		}},
		{"malleated signature", func() []byte {
			s, _ := tx.Decode(transfer(t, good))
			s.Signature[63] ^= 0x80 // S no longer below the group order
			return codec.MustMarshal(s)
		}},
		{"wrong chain", func() []byte { o := good; o.chainID = "other"; return transfer(t, o) }},
		{"garbage", func() []byte { return []byte("not a transaction") }},
		{"unsigned", func() []byte {
			s, _ := tx.Decode(transfer(t, good))
			s.Signature = nil
			return codec.MustMarshal(s)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw()
			plain, pre := newHarness(t), newHarness(t)
			pre.app.PreCheckTx(context.Background(), raw)
			pre.app.PreCheckTx(context.Background(), raw) // twice is harmless
			want, got := plain.check(raw), pre.check(raw)
			if got.Code != want.Code || got.Codespace != want.Codespace || got.Log != want.Log {
				t.Fatalf("CheckTx after PreCheckTx: %s/%d %q, without: %s/%d %q",
					got.Codespace, got.Code, got.Log, want.Codespace, want.Code, want.Log)
			}
			wantBlock, gotBlock := plain.block(raw), pre.block(raw)
			w, g := wantBlock.TxResults[0], gotBlock.TxResults[0]
			if g.Code != w.Code || g.Log != w.Log || string(gotBlock.AppHash) != string(wantBlock.AppHash) {
				t.Fatalf("FinalizeBlock after PreCheckTx: %d %q, without: %d %q", g.Code, g.Log, w.Code, w.Log)
			}
		})
	}
}

// PreCheckTx runs outside the ABCI lock, beside blocks and checks (go test
// -race finds what this would break).
func TestPreCheckTxRunsBesideBlocks(t *testing.T) {
	h := newHarness(t)
	alice, dave := devAccount("alice"), devAccount("dave")
	const n = 40
	txs := make([][]byte, n)
	for i := range txs {
		txs[i] = transfer(t, txOpts{from: alice, to: dave.addr, amount: token.PHA(1), nonce: uint64(i)})
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 2 {
				h.app.PreCheckTx(context.Background(), txs[i])
			}
		}()
	}
	for i := 0; i < n; i += 4 {
		for _, raw := range txs[i : i+4] {
			if r := h.check(raw); r.Code != 0 {
				t.Fatalf("CheckTx %d: %s", i, r.Log)
			}
		}
		for j, r := range h.block(txs[i : i+4]...).TxResults {
			if r.Code != 0 {
				t.Fatalf("tx %d: %s", i+j, r.Log)
			}
		}
	}
	wg.Wait()
}

func TestSigCacheEvictsOldest(t *testing.T) {
	c := newSigCache(2)
	h := func(b byte) [32]byte { return [32]byte{1, b} }
	decoded := &tx.Signed{}
	c.add(h(1), true, nil)
	c.add(h(2), false, nil)
	c.add(h(2), true, decoded) // a known hash keeps its verdict, gains its decoding
	c.add(h(3), true, nil)     // evicts 1
	tests := []struct {
		h            [32]byte
		valid, known bool
		signed       *tx.Signed
	}{
		{h(1), false, false, nil},
		{h(2), false, true, decoded},
		{h(3), true, true, nil},
	}
	for _, tc := range tests {
		if valid, known, signed := c.get(tc.h); valid != tc.valid || known != tc.known || signed != tc.signed {
			t.Errorf("%x: got %v %v %p, want %v %v %p", tc.h[:2], valid, known, signed, tc.valid, tc.known, tc.signed)
		}
	}
}

// Only the newest keepDecoded entries hold on to their decoding.
func TestSigCacheDropsOldDecodings(t *testing.T) {
	c := newSigCache(8)
	c.keepDecoded = 3
	for i := range 10 {
		c.add([32]byte{byte(i)}, true, &tx.Signed{})
	}
	for i := range 10 {
		_, known, signed := c.get([32]byte{byte(i)})
		if wantKnown, wantDecoded := i >= 2, i >= 7; known != wantKnown || (signed != nil) != wantDecoded {
			t.Errorf("entry %d: known %v decoded %v, want %v %v", i, known, signed != nil, wantKnown, wantDecoded)
		}
	}
}
