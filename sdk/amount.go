package sdk

import (
	"errors"
	"math/bits"
	"strconv"
)

// Amount is a count of PHA base units (one PHA is 10^12 of them): an
// unsigned 128-bit number, as the host passes value and balances. Its JSON
// and text form is the decimal count in a string ("1500000000000" is 1.5
// PHA), as the chain writes amounts. The zero value is zero.
type Amount struct{ hi, lo uint64 }

// Errors of Amount arithmetic and parsing.
var (
	ErrAmountOverflow  = errors.New("amount overflow")
	ErrAmountUnderflow = errors.New("amount underflow")
	ErrAmountSyntax    = errors.New("amount: want a decimal count of base units")
)

// NewAmount is n base units.
func NewAmount(n uint64) Amount { return Amount{lo: n} }

// PHA is n whole PHA.
func PHA(n uint32) Amount {
	hi, lo := bits.Mul64(uint64(n), 1_000_000_000_000)
	return Amount{hi, lo}
}

// IsZero reports whether a is zero.
func (a Amount) IsZero() bool { return a == Amount{} }

// Cmp is -1, 0 or 1 as a is less than, equal to or more than b.
func (a Amount) Cmp(b Amount) int {
	switch {
	case a == b:
		return 0
	case a.hi < b.hi || a.hi == b.hi && a.lo < b.lo:
		return -1
	}
	return 1
}

// Add is a+b, or ErrAmountOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, over := bits.Add64(a.hi, b.hi, c)
	if over != 0 {
		return Amount{}, ErrAmountOverflow
	}
	return Amount{hi, lo}, nil
}

// Sub is a-b, or ErrAmountUnderflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	hi, under := bits.Sub64(a.hi, b.hi, c)
	if under != 0 {
		return Amount{}, ErrAmountUnderflow
	}
	return Amount{hi, lo}, nil
}

// String is the decimal count of base units.
func (a Amount) String() string {
	if a.hi == 0 {
		return strconv.FormatUint(a.lo, 10)
	}
	// Divide by 10^19 (the largest power of ten in 64 bits) until the
	// quotient fits in 64 bits; the remainders are the low digits.
	const chunk = 10_000_000_000_000_000_000
	var parts []uint64
	for a.hi != 0 {
		qhi, r := a.hi/chunk, a.hi%chunk
		qlo, rem := bits.Div64(r, a.lo, chunk)
		parts = append(parts, rem)
		a = Amount{qhi, qlo}
	}
	s := strconv.FormatUint(a.lo, 10)
	for i := len(parts) - 1; i >= 0; i-- {
		d := strconv.FormatUint(parts[i], 10)
		for len(d) < 19 {
			d = "0" + d
		}
		s += d
	}
	return s
}

// ParseAmount reads String's form.
func ParseAmount(s string) (Amount, error) {
	if s == "" {
		return Amount{}, ErrAmountSyntax
	}
	var a Amount
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return Amount{}, ErrAmountSyntax
		}
		hi1, hi := bits.Mul64(a.hi, 10)
		hi2, lo := bits.Mul64(a.lo, 10)
		hi, carry := bits.Add64(hi, hi2, 0)
		if hi1 != 0 || carry != 0 {
			return Amount{}, ErrAmountOverflow
		}
		var err error
		if a, err = (Amount{hi, lo}).Add(NewAmount(uint64(c - '0'))); err != nil {
			return Amount{}, err
		}
	}
	return a, nil
}

// MarshalText writes the decimal count (a JSON string).
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads the decimal count.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// bytes is the host ABI's form: 16 bytes, big-endian.
func (a Amount) bytes() []byte {
	b := make([]byte, 16)
	for i := range 8 {
		b[i] = byte(a.hi >> (56 - 8*i))
		b[8+i] = byte(a.lo >> (56 - 8*i))
	}
	return b
}

func amountFrom(b []byte) Amount {
	var a Amount
	for i := range 8 {
		a.hi = a.hi<<8 | uint64(b[i])
		a.lo = a.lo<<8 | uint64(b[8+i])
	}
	return a
}
