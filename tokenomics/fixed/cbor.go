package fixed

import (
	"encoding/binary"
	"errors"
)

// MarshalCBOR encodes q as a byte string of exactly 16 bytes, the integer
// word then the fraction word, big-endian: one encoding per value, so
// settlements that carry values hash alike on every gatekeeper. The
// header is written by hand (a settlement carries thousands of values).
func (q Q) MarshalCBOR() ([]byte, error) {
	b := make([]byte, 17)
	b[0] = 0x50 // byte string of 16 bytes
	binary.BigEndian.PutUint64(b[1:9], q.hi)
	binary.BigEndian.PutUint64(b[9:], q.lo)
	return b, nil
}

// UnmarshalCBOR accepts only the form MarshalCBOR writes.
func (q *Q) UnmarshalCBOR(data []byte) error {
	if len(data) != 17 || data[0] != 0x50 {
		return errors.New("fixed: want a byte string of 16 bytes")
	}
	*q = Q{hi: binary.BigEndian.Uint64(data[1:9]), lo: binary.BigEndian.Uint64(data[9:])}
	return nil
}
