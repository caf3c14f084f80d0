package bench

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/crypto/sigctx"
)

func TestSignedTrivialCommits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := SignedTrivial(ctx, testOptions(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Committed == 0 || res.Failed != 0 || res.Rejected != 0 {
		t.Fatalf("signed trivial app: %+v", res)
	}
	if res.App.PreCheckTx == 0 {
		t.Fatal("no time in PreCheckTx: the signatures were verified under the ABCI lock")
	}
	size, err := TransferSize()
	if err != nil || res.TxBytes != size {
		t.Fatalf("signed trivial txs are %d bytes, transfers %d (%v)", res.TxBytes, size, err)
	}
}

// TestSignedTrivialVerifies checks that the baseline really verifies: it
// accepts a well-signed transaction and refuses every kind of bad one, in
// CheckTx with or without PreCheckTx first and in FinalizeBlock.
func TestSignedTrivialVerifies(t *testing.T) {
	size, err := TransferSize()
	if err != nil {
		t.Fatal(err)
	}
	keys := newSenders(2)
	rng := rand.NewChaCha8([32]byte{42})
	good := func() []byte { return signSigned(keys[0].key, size, 7, rng) }
	flip := func(i int) []byte { raw := good(); raw[i] ^= 1; return raw }
	cases := []struct {
		name string
		raw  []byte
		ok   bool
	}{
		{"valid", good(), true},
		{"signature byte flipped", flip(signedSigOffset + 3), false},
		{"payload byte flipped", flip(size - 1), false},
		{"key byte flipped", flip(signedPubOffset), false},
		{"other signer's key", func() []byte {
			raw := good()
			copy(raw[signedPubOffset:], keys[1].pub)
			return raw
		}(), false},
		{"signed for another chain", func() []byte {
			raw := good()
			msg := append(append([]byte(nil), raw[:signedSigOffset]...), raw[signedPayload:]...)
			copy(raw[signedSigOffset:], sigctx.Tx.Sign(keys[0].key, ChainID+"-other", msg))
			return raw
		}(), false},
		{"zero signature", func() []byte {
			raw := good()
			clear(raw[signedSigOffset:signedPayload])
			return raw
		}(), false},
		{"too short", good()[:signedPayload-1], false},
	}
	ctx := context.Background()
	for _, c := range cases {
		for _, pre := range []bool{false, true} {
			name := c.name
			if pre {
				name += "/after PreCheckTx"
			}
			t.Run(name, func(t *testing.T) {
				a := NewSignedTrivialApp()
				if pre {
					a.PreCheckTx(ctx, c.raw)
				}
				res, err := a.CheckTx(ctx, &abci.CheckTxRequest{Tx: c.raw, Type: abci.CHECK_TX_TYPE_CHECK})
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Code == abci.CodeTypeOK; got != c.ok {
					t.Fatalf("CheckTx code %d (%s), want accepted %v", res.Code, res.Log, c.ok)
				}
				// A fresh application, so FinalizeBlock verifies rather than
				// reusing CheckTx's verdict, and once more with it cached.
				for _, app := range []*SignedTrivialApp{NewSignedTrivialApp(), a} {
					fin, err := app.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{Txs: [][]byte{good(), c.raw}})
					if err != nil {
						t.Fatal(err)
					}
					if fin.TxResults[0].Code != abci.CodeTypeOK {
						t.Fatalf("FinalizeBlock refused the valid neighbour: %d", fin.TxResults[0].Code)
					}
					if got := fin.TxResults[1].Code == abci.CodeTypeOK; got != c.ok {
						t.Fatalf("FinalizeBlock code %d, want accepted %v", fin.TxResults[1].Code, c.ok)
					}
				}
			})
		}
	}
}
