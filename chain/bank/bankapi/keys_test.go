package bankapi

import (
	"bytes"
	"testing"

	"github.com/phala-go/phala/crypto/address"
)

// The keys are part of what proofs name: changing one changes every
// client's proven query, so their bytes are pinned.
func TestStateKeys(t *testing.T) {
	var a address.Address
	for i := range a {
		a[i] = byte(i)
	}
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"account", AccountKeyOf(a), append([]byte{0x01, 0x01}, a[:]...)},
		{"supply", SupplyKey.Key(), []byte{0x01, 0x02}},
		{"params", ParamsKey.Key(), []byte{0x01, 0x03}},
	}
	for _, tc := range tests {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s key %x, want %x", tc.name, tc.got, tc.want)
		}
	}
}
