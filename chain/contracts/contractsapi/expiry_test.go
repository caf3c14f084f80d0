package contractsapi

import (
	"bytes"
	"testing"

	"github.com/phala-go/phala/crypto/address"
)

func FuzzDecodeUploadDropped(f *testing.F) {
	fuzzDecoder(f, DecodeUploadDropped, UploadDropped{Uploader: address.Address{1}, CodeHash: Hash{2}})
}

// TestExpiryKeysRoundTrip: the index keys parse back to what made them,
// and keys of another item or length are refused.
func TestExpiryKeysRoundTrip(t *testing.T) {
	up, h := address.Address{7}, Hash{9}
	k := UploadExpiryKeyOf(1<<40+3, up, h)
	if s, u, c, ok := ParseUploadExpiryKey(k); !ok || s != 1<<40+3 || u != up || c != h {
		t.Fatalf("upload expiry key: %d %s %s %v", s, u, c, ok)
	}
	b := BlockCommandsKeyOf(42, "default")
	if height, cluster, ok := ParseBlockCommandsKey(b); !ok || height != 42 || cluster != "default" {
		t.Fatalf("block commands key: %d %q %v", height, cluster, ok)
	}
	for _, bad := range [][]byte{nil, k[:len(k)-1], append(bytes.Clone(k), 0), UploadKeyOf(up, h)} {
		if _, _, _, ok := ParseUploadExpiryKey(bad); ok {
			t.Errorf("ParseUploadExpiryKey(%x) accepted", bad)
		}
	}
	for _, bad := range [][]byte{nil, b[:5], UploadKeyOf(up, h)} {
		if _, _, ok := ParseBlockCommandsKey(bad); ok {
			t.Errorf("ParseBlockCommandsKey(%x) accepted", bad)
		}
	}
}
