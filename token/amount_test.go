package token

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/phala-go/phala/codec"
)

func TestArithmetic(t *testing.T) {
	max := Amount{^uint64(0), ^uint64(0)}
	if _, err := max.Add(FromUint64(1)); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overflow not detected: %v", err)
	}
	if _, err := FromUint64(1).Sub(FromUint64(2)); !errors.Is(err, ErrUnderflow) {
		t.Fatalf("underflow not detected: %v", err)
	}
	supply := PHA(1_000_000_000)
	if supply.String() != "1000000000000000000000" {
		t.Fatalf("supply = %s", supply)
	}
	sum, _ := FromUint64(^uint64(0)).Add(FromUint64(1))
	if sum.String() != "18446744073709551616" {
		t.Fatalf("carry: %s", sum)
	}
	back, _ := sum.Sub(FromUint64(1))
	if back != FromUint64(^uint64(0)) {
		t.Fatalf("borrow: %s", back)
	}
	if _, err := max.MulUint64(2); !errors.Is(err, ErrOverflow) {
		t.Fatal("mul overflow not detected")
	}
}

func TestParseAndFormat(t *testing.T) {
	tests := []struct {
		in, units, human string
		bad              bool
	}{
		{in: "1.5", units: "1500000000000", human: "1.5 PHA"},
		{in: "10PHA", units: "10000000000000", human: "10 PHA"},
		{in: "0.000000000001", units: "1", human: "0.000000000001 PHA"},
		{in: "1500u", units: "1500", human: "0.0000000015 PHA"},
		{in: "0", units: "0", human: "0 PHA"},
		{in: "1000000000", units: "1000000000000000000000", human: "1000000000 PHA"},
		{in: "1.0000000000001", bad: true},
		{in: "-1", bad: true},
		{in: "abc", bad: true},
		{in: "", bad: true},
		{in: "340282366920938463463374607431768211456u", bad: true},
	}
	for _, tc := range tests {
		a, err := ParsePHA(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q accepted as %s", tc.in, a)
			}
			continue
		}
		if err != nil || a.String() != tc.units || a.PHAString() != tc.human {
			t.Errorf("%q: got %s / %s / %v", tc.in, a, a.PHAString(), err)
		}
	}
}

func TestCBORIsMinimal(t *testing.T) {
	for _, a := range []Amount{{}, FromUint64(1), FromUint64(256), PHA(1_000_000_000), {^uint64(0), ^uint64(0)}} {
		b := codec.MustMarshal(a)
		var back Amount
		if err := codec.UnmarshalCanonical(b, &back); err != nil || back != a {
			t.Fatalf("%s: %v %s", a, err, back)
		}
	}
	var v Amount
	if err := codec.Unmarshal([]byte{0x42, 0x00, 0x01}, &v); err == nil {
		t.Fatal("leading zero accepted")
	}
}

func TestUint128RoundTrip(t *testing.T) {
	for _, a := range []Amount{{}, FromUint64(1), One, {hi: 1}, {hi: ^uint64(0), lo: ^uint64(0)}} {
		hi, lo := a.Uint128()
		if got := FromUint128(hi, lo); got != a {
			t.Errorf("%s -> (%d, %d) -> %s", a, hi, lo, got)
		}
	}
	if hi, lo := PHA(1_000_000_000).Uint128(); hi != 54 || lo != 3875820019684212736 {
		t.Errorf("10^21 = (%d, %d)", hi, lo)
	}
}

// TestCBORAsTheLibraryWrites: the hand-written head is the library's own
// encoding of the same bytes, and decoding agrees with the library's for
// every input, refusals included.
func TestCBORAsTheLibraryWrites(t *testing.T) {
	for i := range 130 {
		a := FromUint128(0, 1)
		if i < 64 {
			a = FromUint128(0, 1<<i)
		} else if i < 128 {
			a = FromUint128(1<<(i-64), 3)
		}
		got, _ := a.MarshalCBOR()
		want, err := cbor.Marshal(a.minimalBytes())
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %x, the library writes %x", a, got, want)
		}
	}
	inputs := [][]byte{{0x40}, {0x41, 0x01}, {0x41}, {0x42, 0x00, 0x01}, {0x58, 0x01, 0x05}, {0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, {0x01}, {0x60}, {}}
	for _, in := range inputs {
		var fast, slow Amount
		errFast := fast.UnmarshalCBOR(in)
		var b []byte
		errSlow := cbor.Unmarshal(in, &b)
		if errSlow == nil {
			errSlow = slow.UnmarshalCBOR(append([]byte{0x40 | byte(len(b))}, b...))
		}
		if (errFast == nil) != (errSlow == nil) || fast != slow {
			t.Errorf("%x: %v %s, the library %v %s", in, errFast, fast, errSlow, slow)
		}
	}
}
