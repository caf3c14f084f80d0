// Package fixed is the unsigned Q64.64 fixed-point number the economy
// computes with: 64 integer bits, 64 fractional bits, exact and the same on
// every machine. Gatekeepers settle rewards independently and the chain
// counts identical settlements once, so every rounding must be identical:
// no floats anywhere in the economy. Every operation rounds toward zero and
// reports overflow instead of wrapping.
package fixed

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strings"
)

// Q is an unsigned Q64.64 number; the zero value is zero.
type Q struct{ hi, lo uint64 } // hi: integer part, lo: fraction (units of 2^-64)

var (
	// ErrOverflow reports a result of 2^64 or more.
	ErrOverflow = errors.New("fixed: overflow")
	// ErrUnderflow reports a negative difference.
	ErrUnderflow = errors.New("fixed: underflow")
	// ErrDivZero reports a division by zero.
	ErrDivZero = errors.New("fixed: division by zero")
)

// Zero and One.
var (
	Zero = Q{}
	One  = Q{hi: 1}
)

// Int is n as a fixed-point number.
func Int(n uint64) Q { return Q{hi: n} }

// Ratio is num/den rounded toward zero; parameters such as 1.3 are Ratio(13, 10).
func Ratio(num, den uint64) (Q, error) { return Int(num).Div(Int(den)) }

// MustRatio is Ratio for constants; it panics on a zero denominator or overflow.
func MustRatio(num, den uint64) Q {
	q, err := Ratio(num, den)
	if err != nil {
		panic(fmt.Sprintf("fixed.MustRatio(%d, %d): %v", num, den, err))
	}
	return q
}

// FromBits is the number whose raw bits are hi (integer) and lo (fraction).
func FromBits(hi, lo uint64) Q { return Q{hi: hi, lo: lo} }

// Bits are q's raw integer and fraction words.
func (q Q) Bits() (hi, lo uint64) { return q.hi, q.lo }

// IsZero reports whether q is zero.
func (q Q) IsZero() bool { return q == Zero }

// Floor is q's integer part.
func (q Q) Floor() uint64 { return q.hi }

// Cmp returns -1, 0 or 1.
func (q Q) Cmp(r Q) int {
	switch {
	case q.hi < r.hi || (q.hi == r.hi && q.lo < r.lo):
		return -1
	case q == r:
		return 0
	}
	return 1
}

// Min is the smaller of q and r.
func Min(q, r Q) Q {
	if q.Cmp(r) <= 0 {
		return q
	}
	return r
}

// Add is q+r.
func (q Q) Add(r Q) (Q, error) {
	lo, carry := bits.Add64(q.lo, r.lo, 0)
	hi, over := bits.Add64(q.hi, r.hi, carry)
	if over != 0 {
		return Q{}, ErrOverflow
	}
	return Q{hi, lo}, nil
}

// Sub is q−r.
func (q Q) Sub(r Q) (Q, error) {
	lo, borrow := bits.Sub64(q.lo, r.lo, 0)
	hi, under := bits.Sub64(q.hi, r.hi, borrow)
	if under != 0 {
		return Q{}, ErrUnderflow
	}
	return Q{hi, lo}, nil
}

// SubFloor is q−r, or zero when r > q.
func (q Q) SubFloor(r Q) Q {
	d, err := q.Sub(r)
	if err != nil {
		return Zero
	}
	return d
}

// Mul is q·r rounded toward zero.
func (q Q) Mul(r Q) (Q, error) {
	// The 256-bit product of two 128-bit words, then the middle 128 bits.
	p1, p0 := bits.Mul64(q.lo, r.lo)
	a1, a0 := bits.Mul64(q.lo, r.hi)
	b1, b0 := bits.Mul64(q.hi, r.lo)
	c1, c0 := bits.Mul64(q.hi, r.hi)
	_ = p0 // below 2^-64: rounded away
	mid, carry1 := bits.Add64(p1, a0, 0)
	mid, carry2 := bits.Add64(mid, b0, 0)
	high, carry3 := bits.Add64(c0, a1, carry1)
	high, carry4 := bits.Add64(high, b1, carry2)
	if c1 != 0 || carry3 != 0 || carry4 != 0 {
		return Q{}, ErrOverflow
	}
	return Q{hi: high, lo: mid}, nil
}

// MulInt is q·n.
func (q Q) MulInt(n uint64) (Q, error) { return q.Mul(Int(n)) }

// Div is q/r rounded toward zero.
func (q Q) Div(r Q) (Q, error) {
	if r.IsZero() {
		return Q{}, ErrDivZero
	}
	hi, lo, ok := divWords(q.hi, q.lo, 0, r.hi, r.lo)
	if !ok {
		return Q{}, ErrOverflow
	}
	return Q{hi, lo}, nil
}

// DivInt is q/n.
func (q Q) DivInt(n uint64) (Q, error) { return q.Div(Int(n)) }

// Sqrt is the square root of q rounded toward zero (never overflows).
func (q Q) Sqrt() Q {
	// sqrt(x·2^-64) = sqrt(x·2^64)·2^-64: the integer root of the raw bits shifted by 64.
	hi, lo := sqrtWords(q.hi, q.lo)
	return Q{hi, lo}
}

// Pow is q^n by squaring (n is a count of periods, so small exponents
// dominate); each step rounds toward zero.
func (q Q) Pow(n uint64) (Q, error) {
	result, base := One, q
	for n > 0 {
		var err error
		if n&1 == 1 {
			if result, err = result.Mul(base); err != nil {
				return Q{}, err
			}
		}
		n >>= 1
		if n > 0 {
			if base, err = base.Mul(base); err != nil {
				return Q{}, err
			}
		}
	}
	return result, nil
}

func (q Q) big() *big.Int {
	b := new(big.Int).SetUint64(q.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(q.lo))
}

func fromBig(b *big.Int) (Q, error) {
	if b.BitLen() > 128 {
		return Q{}, ErrOverflow
	}
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0))).Uint64()
	return Q{hi: new(big.Int).Rsh(b, 64).Uint64(), lo: lo}, nil
}

// decimals is how many fractional digits String prints and Parse accepts.
// One unit of the last digit (1e-19) is about twice 2^-64, so a number
// parsed from 19 digits prints back as the same digits.
const decimals = 19

var scale = new(big.Int).Exp(big.NewInt(10), big.NewInt(decimals), nil)

// String is q in decimal rounded to the nearest 19th fractional digit,
// trailing zeros dropped: "1.3", "0.0000006666", "42". It is for parameter
// files and JSON; what is signed or hashed carries the bits.
func (q Q) String() string { return q.Text(decimals) }

// Text is q in decimal rounded to the nearest digits-th fractional digit
// (0 to 19), trailing zeros dropped: for people, who do not want to read
// the binary fraction's last digits (V 4151.52, not 4151.5199999999999999334).
func (q Q) Text(digits int) string {
	digits = max(0, min(digits, decimals))
	n := q.big()
	n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
	n.Add(n, new(big.Int).Lsh(big.NewInt(1), 63))
	n.Rsh(n, 64)
	s := fmt.Sprintf("%0*s", digits+1, n.String())
	whole, frac := s[:len(s)-digits], strings.TrimRight(s[len(s)-digits:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// Parse reads a decimal such as "1.3" or "42" (at most 19 fractional
// digits), rounded to the nearest Q.
func Parse(s string) (Q, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(frac) > decimals ||
		strings.TrimLeft(whole, "0123456789") != "" || strings.TrimLeft(frac, "0123456789") != "" {
		return Q{}, fmt.Errorf("fixed: invalid number %q: want digits with an optional fraction of at most %d digits", s, decimals)
	}
	n, _ := new(big.Int).SetString(whole+frac+strings.Repeat("0", decimals-len(frac)), 10)
	n.Lsh(n, 64)
	n.Add(n, new(big.Int).Rsh(scale, 1))
	n.Quo(n, scale)
	q, err := fromBig(n)
	if err != nil {
		return Q{}, fmt.Errorf("fixed: %q: %w", s, err)
	}
	return q, nil
}

// MarshalText writes String, so parameters read as decimals in JSON.
func (q Q) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText reads Parse.
func (q *Q) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// Rat is q as an exact rational.
func (q Q) Rat() *big.Rat { return new(big.Rat).SetFrac(q.big(), new(big.Int).Lsh(big.NewInt(1), 64)) }

// Max is the larger of q and r.
func Max(q, r Q) Q {
	if q.Cmp(r) >= 0 {
		return q
	}
	return r
}

// Half is q/2 rounded toward zero.
func (q Q) Half() Q { return Q{hi: q.hi >> 1, lo: q.lo>>1 | q.hi<<63} }
