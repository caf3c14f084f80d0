package tokenomics

import (
	"math/bits"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// Portion is a·ratio rounded down to a base unit, for a ratio of at most
// one (a larger ratio counts as one): parts of one amount taken by ratios
// that add up to at most one never add up to more than the amount.
func Portion(a token.Amount, ratio fixed.Q) token.Amount {
	if ratio.Cmp(fixed.One) >= 0 {
		return a
	}
	_, r := ratio.Bits() // ratio < 1: its fraction word
	ah, al := a.Uint128()
	// (ah·2^64 + al)·r / 2^64 = ah·r + (al·r)/2^64, each below 2^128.
	p1, p0 := bits.Mul64(ah, r)
	q1, _ := bits.Mul64(al, r)
	lo, c := bits.Add64(p0, q1, 0)
	return token.FromUint128(p1+c, lo)
}

// Split divides a reward between its stake pool and the treasury: the
// treasury's part is Part(reward, TreasuryShare), the pool's the rest, so
// the two add up to the reward. The chain pays, and the gatekeepers take
// out of V, exactly these parts, session by session.
func (p Params) Split(reward token.Amount) (pool, treasury token.Amount) {
	treasury = Part(reward, p.TreasuryShare)
	pool, _ = reward.Sub(treasury) // treasury ≤ reward
	return pool, treasury
}

// Part is a·ratio rounded to the nearest base unit (halves up), at most
// a; a ratio of one or more takes a whole. It is the one rule for a
// parameter's share of an amount (the treasury's part of a reward, a
// slash). Nearest, not down: the shares are decimal fractions held in
// binary (0.2 is a little less than 0.2 in Q64.64), so rounding down
// would make 1000 PHA's treasury part, or 3000 PHA's 10% slash, a base
// unit short. Nearest gives the decimal product itself whenever that is a
// whole number of base units, for any amount below a million PHA (the
// binary error, under a·2^-64, stays below a tenth of a unit).
// Budgets are divided with Portion instead, which rounds down so that
// parts never add up to more than the budget.
func Part(a token.Amount, ratio fixed.Q) token.Amount {
	if ratio.Cmp(fixed.One) >= 0 {
		return a
	}
	_, r := ratio.Bits()
	ah, al := a.Uint128()
	// a·r/2^64 + 1/2 = ah·r + (al·r + 2^63)/2^64. Below a·(1−2^-64) + 1/2
	// rounded down: never above a.
	p1, p0 := bits.Mul64(ah, r)
	q1, q0 := bits.Mul64(al, r)
	_, c := bits.Add64(q0, 1<<63, 0)
	q1 += c // the high word of a product of two words is at most 2^64−2
	lo, c := bits.Add64(p0, q1, 0)
	return token.FromUint128(p1+c, lo)
}

// Weight is what a worker's part of a period's budget is in proportion
// to: its share times the fraction of the period it computed and
// answered, in whole seconds (at most one).
func Weight(share fixed.Q, active, period uint64) fixed.Q {
	if active == 0 || period == 0 {
		return fixed.Zero
	}
	if active >= period {
		return share
	}
	f, err := fixed.Int(active).Div(fixed.Int(period)) // < 1: never overflows
	if err != nil {
		return fixed.Zero
	}
	w, _ := share.Mul(f) // ≤ share
	return w
}

// Divide pays a budget out in proportion to weights: each gets
// budget·weight/Σweights rounded down, so the parts never add up to more
// than the budget; the rounding left over stays in the reward pool.
// Nothing is paid when every weight is zero. The sum of the weights must
// fit a fixed.Q (weights are shares of at most sqrt(2)·v_max each).
func Divide(budget token.Amount, weights []fixed.Q) ([]token.Amount, error) {
	var total fixed.Q
	for _, w := range weights {
		var err error
		if total, err = total.Add(w); err != nil {
			return nil, err
		}
	}
	out := make([]token.Amount, len(weights))
	if total.IsZero() {
		return out, nil
	}
	for i, w := range weights {
		if w.IsZero() {
			continue
		}
		r, err := w.Div(total) // ≤ 1
		if err != nil {
			return nil, err
		}
		out[i] = Portion(budget, r)
	}
	return out, nil
}
