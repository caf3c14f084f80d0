package chaingen

import (
	"bytes"
	"testing"

	"github.com/phala-go/phala/mq"
)

func TestChainIsConsistent(t *testing.T) {
	for _, n := range []int{1, 4} {
		c, err := New("gen-chain", n, []byte(`{}`), []byte("genesis"))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			if err := c.Add([]mq.Message{{Topic: "t", Payload: []byte{byte(i)}}}); err != nil {
				t.Fatal(err)
			}
		}
		prev := []byte("genesis")
		for h := int64(1); h <= c.Height(); h++ {
			hdr := c.Header(h)
			if err := hdr.ValidateBasic(); err != nil {
				t.Fatalf("header %d: %v", h, err)
			}
			if h > 1 {
				if !bytes.Equal(hdr.LastBlockID.Hash, c.Header(h-1).Hash()) {
					t.Fatalf("header %d does not link to %d", h, h-1)
				}
				want, err := c.Digest(h-1).AppHash(c.ChainID, prev)
				if err != nil || !bytes.Equal(want, hdr.AppHash) {
					t.Fatalf("header %d app hash does not follow block %d's digest (%v)", h, h-1, err)
				}
				prev = hdr.AppHash
			}
			cm, err := c.Commit(h)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validators().VerifyCommitLight(c.ChainID, cm.BlockID, h, cm); err != nil {
				t.Fatalf("commit %d with %d validators: %v", h, n, err)
			}
		}
		if _, err := c.Batch(2, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Batch(3, 9); err == nil {
			t.Fatal("batch past the chain's end was built")
		}
	}
}
