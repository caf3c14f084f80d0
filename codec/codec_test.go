package codec

import (
	"errors"
	"testing"
)

type sample struct {
	_    struct{} `cbor:",toarray"`
	A    uint64
	B    []byte
	Hash [4]byte
}

func TestRoundTripAndStrictness(t *testing.T) {
	in := sample{A: 7, B: []byte("x"), Hash: [4]byte{1, 2, 3, 4}}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := UnmarshalCanonical(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.A != in.A || string(out.B) != "x" || out.Hash != in.Hash {
		t.Fatalf("round trip: got %+v", out)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"trailing byte", append(append([]byte{}, b...), 0), nil},
		{"non-minimal integer", []byte{0x83, 0x18, 0x07, 0x41, 'x', 0x44, 1, 2, 3, 4}, ErrNotCanonical},
		{"indefinite array", []byte{0x9f, 0x07, 0x41, 'x', 0x44, 1, 2, 3, 4, 0xff}, nil},
		{"tag", []byte{0xc2, 0x41, 0x01}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v sample
			err := UnmarshalCanonical(tc.in, &v)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestUnknownFieldRefused(t *testing.T) {
	type wide struct{ A, B uint64 }
	type narrow struct{ A uint64 }
	b := MustMarshal(wide{1, 2})
	if err := Unmarshal(b, &narrow{}); err == nil {
		t.Fatal("unknown field accepted")
	}
}
