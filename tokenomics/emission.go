package tokenomics

import (
	"errors"
	"math/big"
	"time"

	"github.com/phala-go/phala/token"
)

// Emitted is how much the schedule has emitted in the first t of the
// economy's life, rounded down to base units: BudgetPerDay a day during the
// first DecayEvery, DecayFactor times that in the next, and so on. Budgets
// of a span are differences of Emitted, so rounding never adds up: the sum
// of every span's budget is Emitted at the end, never more than
// TotalEmission.
func Emitted(p Params, t time.Duration) (token.Amount, error) {
	if t <= 0 {
		return token.Amount{}, nil
	}
	rate := new(big.Rat).SetFrac(p.BudgetPerDay.Big(), big.NewInt(int64(24*time.Hour))) // base units per ns
	decay := p.DecayFactor.Rat()
	period := big.NewRat(int64(p.DecayEvery), 1)
	full := int64(t / p.DecayEvery)
	// Whole periods: rate·period·(1−d^n)/(1−d); then the part of period n.
	dn := ratPow(decay, full)
	oneMinus := new(big.Rat).Sub(big.NewRat(1, 1), decay)
	sum := new(big.Rat).Sub(big.NewRat(1, 1), dn)
	sum.Quo(sum, oneMinus)
	sum.Mul(sum, period)
	part := new(big.Rat).SetInt64(int64(t - time.Duration(full)*p.DecayEvery))
	sum.Add(sum, part.Mul(part, dn))
	sum.Mul(sum, rate)
	return floorAmount(sum)
}

// TotalEmission is what the schedule emits over the economy's whole life:
// BudgetPerDay·DecayEvery/(1−DecayFactor), rounded down.
func TotalEmission(p Params) (token.Amount, error) {
	if p.DecayEvery <= 0 {
		return token.Amount{}, errors.New("decay_every must be positive")
	}
	total := new(big.Rat).SetFrac(p.BudgetPerDay.Big(), big.NewInt(int64(24*time.Hour)))
	total.Mul(total, big.NewRat(int64(p.DecayEvery), 1))
	total.Quo(total, new(big.Rat).Sub(big.NewRat(1, 1), p.DecayFactor.Rat()))
	return floorAmount(total)
}

// Budget is what the schedule emits between from and to.
func Budget(p Params, from, to time.Duration) (token.Amount, error) {
	if to <= from {
		return token.Amount{}, nil
	}
	a, err := Emitted(p, from)
	if err != nil {
		return a, err
	}
	b, err := Emitted(p, to)
	if err != nil {
		return b, err
	}
	return b.Sub(a)
}

func ratPow(r *big.Rat, n int64) *big.Rat {
	num := new(big.Int).Exp(r.Num(), big.NewInt(n), nil)
	den := new(big.Int).Exp(r.Denom(), big.NewInt(n), nil)
	return new(big.Rat).SetFrac(num, den)
}

func floorAmount(r *big.Rat) (token.Amount, error) {
	return token.FromBig(new(big.Int).Quo(r.Num(), r.Denom()))
}
