package sigctx

import (
	"crypto/ed25519"
	"testing"
)

func TestSignaturesAreBoundToContextAndChain(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := []byte("hello")
	sig := Tx.Sign(priv, "chain-a", msg)
	tests := []struct {
		name  string
		ctx   Context
		chain string
		ok    bool
	}{
		{"same context and chain", Tx, "chain-a", true},
		{"other chain", Tx, "chain-b", false},
		{"other context", AppHash, "chain-a", false},
	}
	for _, tc := range tests {
		if got := tc.ctx.Verify(pub, tc.chain, msg, sig); got != tc.ok {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.ok)
		}
	}
	if Tx.Verify(pub[:5], "chain-a", msg, sig) {
		t.Error("short key accepted")
	}
}

func TestHashIsUnambiguous(t *testing.T) {
	a := Tx.Hash("c", []byte("ab"), []byte("c"))
	b := Tx.Hash("c", []byte("a"), []byte("bc"))
	if a == b {
		t.Fatal("part boundaries do not matter to the hash")
	}
}

func TestDuplicateContextPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate context accepted")
		}
	}()
	register("phala/tx/v1")
}
