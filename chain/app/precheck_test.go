package app_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// PreCheckTx must change how fast CheckTx and FinalizeBlock answer, never
// what they answer.
func TestPreCheckTxChangesNoVerdict(t *testing.T) {
	good := txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(5)}
	tests := []struct {
		name string
		raw  func() []byte
	}{
		{"valid", func() []byte { return transfer(t, good) }},
		{"wrongly signed", func() []byte { return resigned(t, transfer(t, good), apptest.Bob.Key) }},
		{"malleated signature", func() []byte {
			s, _ := tx.Decode(transfer(t, good))
			s.Signature[63] ^= 0x80 // S no longer below the group order
			return codec.MustMarshal(s)
		}},
		{"wrong chain", func() []byte { o := good; o.chainID = "other"; return transfer(t, o) }},
		{"garbage", func() []byte { return []byte("not a transaction") }},
		{"unsigned", func() []byte { return unsigned(t, transfer(t, good)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw()
			plain, pre := apptest.New(t), apptest.New(t)
			pre.App.PreCheckTx(context.Background(), raw)
			pre.App.PreCheckTx(context.Background(), raw) // twice is harmless
			want, got := plain.Check(raw), pre.Check(raw)
			if got.Code != want.Code || got.Codespace != want.Codespace || got.Log != want.Log {
				t.Fatalf("CheckTx after PreCheckTx: %s/%d %q, without: %s/%d %q",
					got.Codespace, got.Code, got.Log, want.Codespace, want.Code, want.Log)
			}
			wantBlock, gotBlock := plain.Block(raw), pre.Block(raw)
			w, g := wantBlock.TxResults[0], gotBlock.TxResults[0]
			if g.Code != w.Code || g.Log != w.Log || !bytes.Equal(gotBlock.AppHash, wantBlock.AppHash) {
				t.Fatalf("FinalizeBlock after PreCheckTx: %d %q, without: %d %q", g.Code, g.Log, w.Code, w.Log)
			}
		})
	}
}

// PreCheckTx runs outside the ABCI lock, beside blocks and checks (go test
// -race finds what this would break).
func TestPreCheckTxRunsBesideBlocks(t *testing.T) {
	h := apptest.New(t)
	const n = 40
	txs := make([][]byte, n)
	for i := range txs {
		txs[i] = transfer(t, txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(1), nonce: uint64(i)})
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 2 {
				h.App.PreCheckTx(context.Background(), txs[i])
			}
		}()
	}
	for i := 0; i < n; i += 4 {
		for _, raw := range txs[i : i+4] {
			if r := h.Check(raw); r.Code != 0 {
				t.Fatalf("CheckTx %d: %s", i, r.Log)
			}
		}
		for j, r := range h.Block(txs[i : i+4]...).TxResults {
			if r.Code != 0 {
				t.Fatalf("tx %d: %s", i+j, r.Log)
			}
		}
	}
	wg.Wait()
}
