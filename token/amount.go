// Package token is the PHA amount type: an unsigned 128-bit count of base
// units (12 decimals). The total supply, 10^21 base units, does not fit in 64
// bits, so amounts are 128-bit with checked arithmetic that reports overflow
// instead of wrapping.
package token

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Decimals is the number of decimal places of one PHA.
const Decimals = 12

// Amount is a count of base units. The zero value is zero.
type Amount struct{ hi, lo uint64 }

var (
	// ErrOverflow reports a sum above 2^128-1.
	ErrOverflow = errors.New("amount overflow")
	// ErrUnderflow reports a difference below zero.
	ErrUnderflow = errors.New("amount underflow")
)

// One PHA in base units.
var One = FromUint64(1_000_000_000_000)

// FromUint64 makes an amount of n base units.
func FromUint64(n uint64) Amount { return Amount{lo: n} }

// PHA makes an amount of n whole PHA.
func PHA(n uint64) Amount {
	a, err := One.MulUint64(n)
	if err != nil {
		panic("token: PHA overflow") // n whole PHA always fits for n < 3.4e26
	}
	return a
}

// FromUint128 makes the amount hi·2^64 + lo base units.
func FromUint128(hi, lo uint64) Amount { return Amount{hi: hi, lo: lo} }

// Uint128 is a's high and low 64 bits (FromUint128's inverse), for fixed
// binary encodings such as the contract host ABI's 16 big-endian bytes.
func (a Amount) Uint128() (hi, lo uint64) { return a.hi, a.lo }

// IsZero reports whether a is zero.
func (a Amount) IsZero() bool { return a.hi == 0 && a.lo == 0 }

// Cmp returns -1, 0 or 1.
func (a Amount) Cmp(b Amount) int {
	switch {
	case a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo):
		return -1
	case a == b:
		return 0
	}
	return 1
}

// Add returns a+b or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	hi, over := bits.Add64(a.hi, b.hi, carry)
	if over != 0 {
		return Amount{}, ErrOverflow
	}
	return Amount{hi, lo}, nil
}

// Sub returns a-b or ErrUnderflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	hi, under := bits.Sub64(a.hi, b.hi, borrow)
	if under != 0 {
		return Amount{}, ErrUnderflow
	}
	return Amount{hi, lo}, nil
}

// MulUint64 returns a*n or ErrOverflow.
func (a Amount) MulUint64(n uint64) (Amount, error) {
	hiLo, lo := bits.Mul64(a.lo, n)
	hiHi, hiPart := bits.Mul64(a.hi, n)
	hi, carry := bits.Add64(hiPart, hiLo, 0)
	if hiHi != 0 || carry != 0 {
		return Amount{}, ErrOverflow
	}
	return Amount{hi, lo}, nil
}

// Big returns a as a big integer.
func (a Amount) Big() *big.Int {
	b := new(big.Int).SetUint64(a.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(a.lo))
}

// FromBig converts a non-negative big integer below 2^128.
func FromBig(b *big.Int) (Amount, error) {
	if b.Sign() < 0 {
		return Amount{}, ErrUnderflow
	}
	if b.BitLen() > 128 {
		return Amount{}, ErrOverflow
	}
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0))).Uint64()
	return Amount{hi: new(big.Int).Rsh(b, 64).Uint64(), lo: lo}, nil
}

// String is the base-unit count in decimal, the form used in JSON and genesis.
func (a Amount) String() string {
	if a.hi == 0 {
		return fmt.Sprint(a.lo)
	}
	return a.Big().String()
}

// ParseUnits parses a decimal count of base units.
func ParseUnits(s string) (Amount, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return Amount{}, fmt.Errorf("invalid amount %q: want a decimal count of base units", s)
	}
	b, _ := new(big.Int).SetString(s, 10)
	a, err := FromBig(b)
	if err != nil {
		return Amount{}, fmt.Errorf("invalid amount %q: %w", s, err)
	}
	return a, nil
}

// ParsePHA parses a human amount: "1.5" or "1.5PHA" is 1.5 PHA; a plain
// integer with the suffix "u" ("1500u") is base units.
func ParsePHA(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if units, ok := strings.CutSuffix(s, "u"); ok {
		return ParseUnits(units)
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "PHA"), "pha")
	whole, frac, _ := strings.Cut(s, ".")
	if whole+frac == "" {
		return Amount{}, fmt.Errorf("invalid amount %q: empty", s)
	}
	if whole == "" {
		whole = "0"
	}
	if len(frac) > Decimals {
		return Amount{}, fmt.Errorf("invalid amount %q: more than %d decimals", s, Decimals)
	}
	frac += strings.Repeat("0", Decimals-len(frac))
	a, err := ParseUnits(strings.TrimLeft(whole+frac, "0") + zeroIfEmpty(whole+frac))
	if err != nil {
		return Amount{}, fmt.Errorf("invalid amount %q: want PHA like 1.5, or base units like 1500u", s)
	}
	return a, nil
}

func zeroIfEmpty(digits string) string {
	if strings.Trim(digits, "0") == "" {
		return "0"
	}
	return ""
}

// PHAString formats a for people: whole PHA with up to 12 decimals and the unit.
func (a Amount) PHAString() string {
	s := a.String()
	if len(s) <= Decimals {
		s = strings.Repeat("0", Decimals-len(s)+1) + s
	}
	whole, frac := s[:len(s)-Decimals], strings.TrimRight(s[len(s)-Decimals:], "0")
	if frac == "" {
		return whole + " PHA"
	}
	return whole + "." + frac + " PHA"
}

// MarshalText encodes the decimal base-unit count (JSON strings).
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses a decimal base-unit count.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseUnits(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalCBOR encodes the amount as a byte string of its minimal big-endian
// bytes (zero is empty), which is canonical without CBOR tags. At most 16
// bytes, the string's head is one byte (major type 2, length below 24),
// written here rather than by the library: records with many amounts
// (stake pools, settlements) are encoded thousands of times a block.
func (a Amount) MarshalCBOR() ([]byte, error) {
	b := a.minimalBytes()
	out := make([]byte, 1+len(b))
	out[0] = 0x40 | byte(len(b))
	copy(out[1:], b)
	return out, nil
}

func (a Amount) minimalBytes() []byte {
	var buf [16]byte
	for i := 0; i < 8; i++ {
		buf[i] = byte(a.hi >> (56 - 8*i))
		buf[8+i] = byte(a.lo >> (56 - 8*i))
	}
	i := 0
	for i < 16 && buf[i] == 0 {
		i++
	}
	return buf[i:]
}

// UnmarshalCBOR accepts only the minimal form written by MarshalCBOR. The
// short byte string MarshalCBOR writes is read here; anything else goes
// through the library, which refuses it or reads it as before.
func (a *Amount) UnmarshalCBOR(data []byte) error {
	var b []byte
	if len(data) > 0 && data[0]&0xe0 == 0x40 && data[0]&0x1f < 24 && len(data) == 1+int(data[0]&0x1f) {
		b = data[1:]
	} else if err := cbor.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("amount: %w", err)
	}
	if len(b) > 16 {
		return fmt.Errorf("amount: %d bytes, at most 16", len(b))
	}
	if len(b) > 0 && b[0] == 0 {
		return errors.New("amount: leading zero byte")
	}
	var v Amount
	for _, c := range b {
		v.hi = v.hi<<8 | v.lo>>56
		v.lo = v.lo<<8 | uint64(c)
	}
	*a = v
	return nil
}
