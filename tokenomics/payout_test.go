package tokenomics

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// The word arithmetic of PHA, Amount and Portion equals the exact
// rationals rounded down.
func TestConversionsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	unitBig := big.NewInt(unit)
	for range 100_000 {
		a := token.FromUint128(rng.Uint64()>>rng.UintN(64)%unit, rng.Uint64()>>rng.UintN(64))
		q, err := PHA(a)
		if err != nil {
			t.Fatal(err)
		}
		want := new(big.Int).Lsh(a.Big(), 64)
		want.Quo(want, unitBig)
		hi, lo := q.Bits()
		got := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		got.Or(got, new(big.Int).SetUint64(lo))
		if got.Cmp(want) != 0 {
			t.Fatalf("PHA(%s) = %s, want %s/2^64", a, got, want)
		}
		back, _ := Amount(q)
		wantBack := new(big.Int).Mul(got, unitBig)
		wantBack.Quo(wantBack, two64)
		if back.Big().Cmp(wantBack) != 0 {
			t.Fatalf("Amount(PHA(%s)) = %s, want %s", a, back, wantBack)
		}
		r := fixed.FromBits(0, rng.Uint64())
		p := Portion(a, r)
		wantP := new(big.Int).Mul(a.Big(), new(big.Int).SetUint64(lo0(r)))
		wantP.Quo(wantP, two64)
		if p.Big().Cmp(wantP) != 0 {
			t.Fatalf("Portion(%s, %s) = %s, want %s", a, r, p, wantP)
		}
	}
	if _, err := PHA(token.FromUint128(unit, 0)); err == nil {
		t.Fatal("PHA of 2^64 PHA did not overflow")
	}
	if Portion(token.PHA(7), fixed.Int(2)) != token.PHA(7) {
		t.Fatal("a ratio above one takes the whole")
	}
}

func lo0(q fixed.Q) uint64 { _, lo := q.Bits(); return lo }

func TestSplit(t *testing.T) {
	p := DefaultParams()
	rng := rand.New(rand.NewPCG(9, 10))
	amounts := []token.Amount{{}, token.FromUint64(1), token.FromUint64(2), token.FromUint64(4), token.FromUint64(5), token.PHA(1000), token.FromUint128(^uint64(0), ^uint64(0))}
	for range 1000 {
		amounts = append(amounts, token.FromUint128(rng.Uint64()>>rng.UintN(64), rng.Uint64()))
	}
	for _, r := range amounts {
		pool, treasury := p.Split(r)
		sum, _ := pool.Add(treasury)
		if sum != r {
			t.Fatalf("Split(%s) = %s + %s", r, pool, treasury)
		}
		exact := new(big.Rat).Mul(new(big.Rat).SetInt(r.Big()), p.TreasuryShare.Rat())
		exact.Add(exact, big.NewRat(1, 2))
		if want := new(big.Int).Quo(exact.Num(), exact.Denom()); treasury.Big().Cmp(want) != 0 {
			t.Fatalf("treasury part of %s = %s, want %s", r, treasury, want)
		}
	}
	if pool, treasury := p.Split(token.PHA(1000)); pool != token.PHA(800) || treasury != token.PHA(200) {
		t.Fatalf("Split(1000 PHA) = %s, %s", pool, treasury)
	}
}

// Part is the exact a·ratio rounded to the nearest base unit, halves up,
// for any ratio below one, and decimal shares of whole PHA come out whole.
func TestPart(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 3))
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	for range 100_000 {
		a := token.FromUint128(rng.Uint64()>>rng.UintN(64)%unit, rng.Uint64()>>rng.UintN(64))
		r := fixed.FromBits(0, rng.Uint64()>>rng.UintN(64))
		want := new(big.Int).Mul(a.Big(), new(big.Int).SetUint64(lo0(r)))
		want.Add(want, new(big.Int).Rsh(two64, 1)).Quo(want, two64)
		if got := Part(a, r); got.Big().Cmp(want) != 0 {
			t.Fatalf("Part(%s, %s) = %s, want %s", a, r, got, want)
		}
	}
	for _, c := range []struct {
		a        token.Amount
		num, den uint64
		want     token.Amount
	}{
		{token.PHA(3000), 1, 10, token.PHA(300)},
		{token.PHA(2500), 1, 10, token.PHA(250)},
		{token.PHA(1000), 2, 10, token.PHA(200)},
		{token.PHA(999_999), 3, 10, token.FromUint64(299_999_700_000_000_000)}, // 299,999.7 PHA
		{token.FromUint64(2), 2, 10, token.Amount{}},                           // 0.4 rounds down
		{token.FromUint64(3), 2, 10, token.FromUint64(1)},                      // 0.6 rounds up
		{token.PHA(7), 3, 2, token.PHA(7)},                                     // a ratio above one takes the whole
		{token.FromUint128(^uint64(0), ^uint64(0)), 1, 1, token.FromUint128(^uint64(0), ^uint64(0))},
	} {
		if got := Part(c.a, fixed.MustRatio(c.num, c.den)); got != c.want {
			t.Errorf("Part(%s, %d/%d) = %s, want %s", c.a, c.num, c.den, got, c.want)
		}
	}
}

func TestWeight(t *testing.T) {
	s := fixed.Int(600)
	cases := []struct {
		active, period uint64
		want           fixed.Q
	}{
		{0, 600, fixed.Zero},
		{600, 600, s},
		{601, 600, s},
		{300, 600, fixed.Int(300)},
		{1, 0, fixed.Zero},
	}
	for _, c := range cases {
		if got := Weight(s, c.active, c.period); got != c.want {
			t.Errorf("Weight(600, %d, %d) = %s, want %s", c.active, c.period, got, c.want)
		}
	}
}

// Divide never pays more than the budget, pays nothing for a zero weight,
// and loses less than a base unit per worker to rounding.
func TestDivideNeverOverpays(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for run := range 300 {
		n := 1 + rng.IntN(200)
		weights := make([]fixed.Q, n)
		for i := range weights {
			if rng.IntN(5) > 0 {
				weights[i] = fixed.FromBits(rng.Uint64N(40_000), rng.Uint64())
			}
		}
		budget := token.FromUint128(rng.Uint64N(1000), rng.Uint64())
		parts, err := Divide(budget, weights)
		if err != nil {
			t.Fatal(err)
		}
		var paid token.Amount
		for i, p := range parts {
			if weights[i].IsZero() && !p.IsZero() {
				t.Fatalf("run %d: weight 0 paid %s", run, p)
			}
			paid, _ = paid.Add(p)
		}
		if paid.Cmp(budget) > 0 {
			t.Fatalf("run %d: paid %s of %s", run, paid, budget)
		}
		short, _ := budget.Sub(paid)
		if allZero(weights) {
			if !paid.IsZero() {
				t.Fatalf("run %d: no weight, paid %s", run, paid)
			}
			continue
		}
		// Each part loses under one unit to its own floor and under
		// budget·2^-64 to its ratio's.
		perPart := new(big.Int).Rsh(budget.Big(), 64)
		perPart.Add(perPart, big.NewInt(2))
		if short.Big().Cmp(perPart.Mul(perPart, big.NewInt(int64(n)))) > 0 {
			t.Fatalf("run %d: %d workers left %s of %s unpaid", run, n, short, budget)
		}
	}
	parts, _ := Divide(token.PHA(90), []fixed.Q{fixed.Int(1), fixed.Int(3), fixed.Zero})
	if parts[0] != token.FromUint64(22_500_000_000_000) || parts[1] != token.FromUint64(67_500_000_000_000) || !parts[2].IsZero() {
		t.Fatalf("Divide(90 PHA, 1:3:0) = %v", parts)
	}
	// Ratios that are not binary fractions round down: a unit short.
	parts, _ = Divide(token.PHA(90), []fixed.Q{fixed.Int(1), fixed.Int(2)})
	if parts[0] != token.FromUint64(29_999_999_999_999) || parts[1] != token.FromUint64(59_999_999_999_999) {
		t.Fatalf("Divide(90 PHA, 1:2) = %v", parts)
	}
}

func allZero(ws []fixed.Q) bool {
	for _, w := range ws {
		if !w.IsZero() {
			return false
		}
	}
	return true
}
