package fixed

import (
	"errors"
	"math/big"
	"testing"
)

func mustParse(t testing.TB, s string) Q {
	t.Helper()
	q, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestParseString(t *testing.T) {
	for _, s := range []string{"0", "1", "42", "1.3", "0.2", "1.5", "0.0000006666", "18446744073709551615", "3.1415926535897932384"} {
		if got := mustParse(t, s).String(); got != s {
			t.Errorf("Parse(%q).String() = %q", s, got)
		}
	}
	for _, bad := range []string{"", ".", "1.", ".5", "-1", "1e3", "1.12345678901234567890", "18446744073709551616", "1,5", " 1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestText(t *testing.T) {
	v := mustParse(t, "4151.52") // not a binary fraction: its bits print as 4151.5199999999999999…
	for _, c := range []struct {
		digits int
		want   string
	}{{0, "4152"}, {2, "4151.52"}, {6, "4151.52"}, {-1, "4152"}, {30, v.String()}} {
		if got := v.Text(c.digits); got != c.want {
			t.Errorf("Text(%d) = %s, want %s", c.digits, got, c.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	p := func(s string) Q { return mustParse(t, s) }
	cases := []struct {
		name string
		got  func() (Q, error)
		want string
	}{
		{"add", func() (Q, error) { return p("1.5").Add(p("2.25")) }, "3.75"},
		{"sub", func() (Q, error) { return p("3.75").Sub(p("1.5")) }, "2.25"},
		{"mul", func() (Q, error) { return p("1.5").Mul(p("2.5")) }, "3.75"},
		{"mul fractions", func() (Q, error) { return p("0.5").Mul(p("0.25")) }, "0.125"},
		{"mul int", func() (Q, error) { return p("1.5").MulInt(4472) }, "6708"},
		{"div", func() (Q, error) { return p("7").Div(p("2")) }, "3.5"},
		{"ratio", func() (Q, error) { return Ratio(13, 10) }, "1.3"},
		{"sqrt 2000", func() (Q, error) { return p("2000").Sqrt(), nil }, "44.7213595499957939282"},
		{"sqrt quarter", func() (Q, error) { return p("0.25").Sqrt(), nil }, "0.5"},
		{"pow", func() (Q, error) { return p("0.75").Pow(2) }, "0.5625"},
		{"pow 0", func() (Q, error) { return p("0.75").Pow(0) }, "1"},
	}
	for _, c := range cases {
		got, err := c.got()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.String() != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	max := FromBits(^uint64(0), ^uint64(0))
	if _, err := max.Add(FromBits(0, 1)); !errors.Is(err, ErrOverflow) {
		t.Errorf("add overflow: %v", err)
	}
	if _, err := Int(1).Sub(Int(2)); !errors.Is(err, ErrUnderflow) {
		t.Errorf("sub underflow: %v", err)
	}
	if got := Int(1).SubFloor(Int(2)); !got.IsZero() {
		t.Errorf("SubFloor = %s", got)
	}
	if _, err := Int(1 << 32).Mul(Int(1 << 32)); !errors.Is(err, ErrOverflow) {
		t.Errorf("mul overflow: %v", err)
	}
	if _, err := Int(1).Div(Zero); !errors.Is(err, ErrDivZero) {
		t.Errorf("div zero: %v", err)
	}
	if _, err := Int(1 << 33).Div(FromBits(0, 1<<30)); !errors.Is(err, ErrOverflow) {
		t.Errorf("div overflow: %v", err)
	}
	if _, err := Int(3).Pow(41); !errors.Is(err, ErrOverflow) {
		t.Errorf("pow overflow: %v", err)
	}
}

// ref is q as an exact rational.
func ref(q Q) *big.Rat { return q.Rat() }

// FuzzAgainstBig checks Mul, Div and Sqrt against exact rationals: each is
// the exact result rounded toward zero.
func FuzzAgainstBig(f *testing.F) {
	f.Add(uint64(1), uint64(0), uint64(2), uint64(1<<63))
	f.Add(uint64(0), uint64(12345), uint64(0), uint64(99))
	f.Add(^uint64(0)>>33, ^uint64(0), uint64(3), uint64(7))
	f.Fuzz(func(t *testing.T, ah, al, bh, bl uint64) {
		a, b := FromBits(ah, al), FromBits(bh, bl)
		unit := new(big.Rat).SetFrac64(1, 1)
		unit.Quo(unit, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), 64)))
		check := func(op string, got Q, err error, exact *big.Rat) {
			limit := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), 64))
			if exact.Cmp(limit) >= 0 {
				if !errors.Is(err, ErrOverflow) {
					t.Fatalf("%s(%v, %v) = %v, %v; want overflow", op, a, b, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s(%v, %v): %v", op, a, b, err)
			}
			g := ref(got)
			next := new(big.Rat).Add(g, unit)
			if g.Cmp(exact) > 0 || next.Cmp(exact) <= 0 {
				t.Fatalf("%s(%v, %v) = %v, exact %v: not rounded toward zero", op, a, b, got, exact.FloatString(25))
			}
		}
		m, err := a.Mul(b)
		check("mul", m, err, new(big.Rat).Mul(ref(a), ref(b)))
		if !b.IsZero() {
			d, err := a.Div(b)
			check("div", d, err, new(big.Rat).Quo(ref(a), ref(b)))
		}
		s := a.Sqrt()
		sq, _ := s.Mul(s)
		if sq.Cmp(a) > 0 {
			t.Fatalf("sqrt(%v) = %v: square %v above", a, s, sq)
		}
		if n, err := s.Add(FromBits(0, 1)); err == nil {
			if nn, err := n.Mul(n); err == nil && nn.Cmp(a) <= 0 && ref(n).Cmp(ref(s)) > 0 {
				// (s+ulp)² ≤ a would mean s is not the largest root; Mul
				// rounds down, so check exactly.
				exact := new(big.Rat).Mul(ref(n), ref(n))
				if exact.Cmp(ref(a)) <= 0 {
					t.Fatalf("sqrt(%v) = %v: not the largest", a, s)
				}
			}
		}
	})
}

func BenchmarkMul(b *testing.B) {
	x, y := MustRatio(13, 10), Int(4472)
	for b.Loop() {
		_, _ = x.Mul(y)
	}
}

func BenchmarkDiv(b *testing.B) {
	x, y := Int(7712), Int(1_000_003)
	for b.Loop() {
		_, _ = x.Div(y)
	}
}

func BenchmarkSqrt(b *testing.B) {
	x := Int(6594 * 6594)
	for b.Loop() {
		_ = x.Sqrt()
	}
}
