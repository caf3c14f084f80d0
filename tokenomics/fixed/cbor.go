package fixed

import (
	"encoding/binary"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// MarshalCBOR encodes q as a byte string of exactly 16 bytes, the integer
// word then the fraction word, big-endian: one encoding per value, so
// settlements that carry values hash alike on every gatekeeper.
func (q Q) MarshalCBOR() ([]byte, error) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], q.hi)
	binary.BigEndian.PutUint64(b[8:], q.lo)
	return cbor.Marshal(b[:])
}

// UnmarshalCBOR accepts only the 16-byte form MarshalCBOR writes.
func (q *Q) UnmarshalCBOR(data []byte) error {
	var b []byte
	if err := cbor.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("fixed: %w", err)
	}
	if len(b) != 16 {
		return fmt.Errorf("fixed: %d bytes, want 16", len(b))
	}
	*q = Q{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
	return nil
}
