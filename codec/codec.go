// Package codec is the one canonical encoding of the project: deterministic CBOR
// (RFC 8949 core deterministic encoding) for everything that is signed, hashed or
// stored. Decoding is strict, so every value has exactly one accepted encoding.
package codec

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// MaxDecodeItems bounds arrays and maps in untrusted input so that a small
// message cannot ask the decoder for a huge allocation.
const MaxDecodeItems = 1 << 16

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	eo := cbor.CoreDetEncOptions()
	eo.ByteArray = cbor.ByteArrayToByteSlice // fixed-size keys and hashes are byte strings
	eo.BigIntConvert = cbor.BigIntConvertShortest
	var err error
	if encMode, err = eo.EncMode(); err != nil {
		panic(fmt.Sprintf("codec: encoder options: %v", err))
	}
	do := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxArrayElements:  MaxDecodeItems,
		MaxMapPairs:       MaxDecodeItems,
		MaxNestedLevels:   32,
		UTF8:              cbor.UTF8RejectInvalid,
	}
	if decMode, err = do.DecMode(); err != nil {
		panic(fmt.Sprintf("codec: decoder options: %v", err))
	}
}

// ErrNotCanonical says the input decoded but is not the canonical encoding of
// its value; accepting it would give one value two hashes.
var ErrNotCanonical = errors.New("codec: not canonically encoded")

// Marshal encodes v canonically.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// MustMarshal encodes values whose types are known to encode (fixed structs of
// our own); it panics only on a programming error, never on input.
func MustMarshal(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("codec: marshal %T: %v", v, err))
	}
	return b
}

// Unmarshal decodes b into v strictly: no trailing bytes, no unknown fields,
// no duplicate keys, no tags, no indefinite lengths.
func Unmarshal(b []byte, v any) error { return decMode.Unmarshal(b, v) }

// UnmarshalCanonical decodes like Unmarshal and then requires that b is the
// canonical encoding of the decoded value.
func UnmarshalCanonical(b []byte, v any) error {
	if err := decMode.Unmarshal(b, v); err != nil {
		return err
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, b) {
		return ErrNotCanonical
	}
	return nil
}

// RawMessage is an encoded value kept as bytes until its type is known.
type RawMessage = cbor.RawMessage
