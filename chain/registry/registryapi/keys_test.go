package registryapi

import (
	"bytes"
	"testing"
)

// The keys are part of what proofs name: changing one changes every
// client's proven query, so their bytes are pinned.
func TestStateKeys(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 32)
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"node", NodeKeyOf(id), append([]byte{0x02, 0x04}, id...)},
		{"policy", PolicyStateKey(), []byte{0x02, 0x01}},
		{"grant", GrantByKey.Key(id), append([]byte{0x02, 0x05}, id...)},
	}
	for _, tc := range tests {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s key %x, want %x", tc.name, tc.got, tc.want)
		}
	}
}
