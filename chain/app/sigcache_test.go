package app

import (
	"testing"

	"github.com/phala-go/phala/chain/tx"
)

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
