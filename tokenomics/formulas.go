package tokenomics

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// unit is one PHA in base units.
const unit = 1_000_000_000_000

// PHA is an amount in whole PHA as a fixed-point number, rounded down to
// 2^-64 PHA. It fails above 2^64 PHA, far beyond the supply.
func PHA(a token.Amount) (fixed.Q, error) {
	hi, lo := a.Uint128()
	if hi >= unit {
		return fixed.Q{}, fixed.ErrOverflow
	}
	// a·2^64/unit = whole·2^64 + rem·2^64/unit.
	whole, rem := bits.Div64(hi, lo, unit)
	frac, _ := bits.Div64(rem, 0, unit)
	return fixed.FromBits(whole, frac), nil
}

// Amount is q PHA in base units, rounded down.
func Amount(q fixed.Q) (token.Amount, error) {
	whole, frac := q.Bits()
	hi, lo := bits.Mul64(whole, unit)
	fracUnits, _ := bits.Mul64(frac, unit) // frac·unit/2^64 < unit
	lo, carry := bits.Add64(lo, fracUnits, 0)
	return token.FromUint128(hi+carry, lo), nil // whole·unit < 2^104: no overflow
}

// MinStake is the least stake a worker of score P computes with: K·sqrt(P) PHA.
func MinStake(p Params, score uint64) (token.Amount, error) {
	s, err := p.K.Mul(fixed.Int(score).Sqrt())
	if err != nil {
		return token.Amount{}, err
	}
	return Amount(s)
}

// InitialValue is a session's starting value:
// ((Re−1)·confidence + 1)·(stake + RigK·P + RigB), which must not exceed
// VMax (a larger stake earns nothing more and is refused).
func InitialValue(p Params, stake token.Amount, score uint64, conf Confidence) (fixed.Q, error) {
	s, err := PHA(stake)
	if err != nil {
		return fixed.Q{}, err
	}
	rig, err := p.RigK.MulInt(score)
	if err == nil {
		rig, err = rig.Add(p.RigB)
	}
	if err == nil {
		s, err = s.Add(rig)
	}
	if err != nil {
		return fixed.Q{}, err
	}
	factor, _ := p.Re.Sub(fixed.One) // Validate: Re ≥ 1
	factor, err = factor.Mul(conf.Score())
	if err == nil {
		factor, err = factor.Add(fixed.One)
	}
	var v fixed.Q
	if err == nil {
		v, err = factor.Mul(s)
	}
	if err != nil || v.Cmp(p.VMax) > 0 {
		return fixed.Q{}, fmt.Errorf("%w: initial value above v_max %s", ErrTooMuchStake, p.VMax)
	}
	return v, nil
}

// Share is what a worker's part of a period's budget is in proportion to:
// sqrt(V² + (2·P·confidence)²).
func Share(v fixed.Q, score uint64, conf Confidence) (fixed.Q, error) {
	pc, err := fixed.Int(2).MulInt(score)
	if err == nil {
		pc, err = pc.Mul(conf.Score())
	}
	var v2, pc2 fixed.Q
	if err == nil {
		v2, err = v.Mul(v)
	}
	if err == nil {
		pc2, err = pc.Mul(pc)
	}
	if err == nil {
		v2, err = v2.Add(pc2)
	}
	if err != nil {
		return fixed.Q{}, err
	}
	return v2.Sqrt(), nil
}

// Rates are the per-second factors of Params' hourly growth and decay,
// worked out once: taking the 3600th root costs a bisection.
type Rates struct {
	p                Params
	growSec, keepSec fixed.Q
}

// NewRates works out p's per-second factors.
func NewRates(p Params) (Rates, error) {
	keep, err := fixed.One.Sub(p.SlashPerHour)
	if err != nil {
		return Rates{}, fmt.Errorf("%w: slash_per_hour above 1", ErrParams)
	}
	return Rates{p: p, growSec: perSecond(p.GrowthPerHour), keepSec: perSecond(keep)}, nil
}

// Grow is V after a span of computing: V·GrowthPerHour^hours + (CostK·P +
// CostB)·hours, capped at VMax. The span is counted in whole seconds and
// growth compounds per second, so every gatekeeper, splitting time at the
// same block times, computes the same.
func (r Rates) Grow(v fixed.Q, score uint64, span time.Duration) fixed.Q {
	secs := uint64(span / time.Second)
	f, err := r.growSec.Pow(secs)
	if err == nil {
		v, err = v.Mul(f)
	}
	var cost fixed.Q
	if err == nil {
		cost, err = r.p.CostK.MulInt(score)
	}
	if err == nil {
		cost, err = cost.Add(r.p.CostB)
	}
	if err == nil {
		cost, err = cost.MulInt(secs)
	}
	if err == nil {
		cost, err = cost.DivInt(3600)
	}
	if err == nil {
		v, err = v.Add(cost)
	}
	if err != nil {
		return r.p.VMax // beyond the representable is beyond the cap
	}
	return fixed.Min(v, r.p.VMax)
}

// Decay is V after a span unresponsive: V·(1−SlashPerHour)^hours,
// compounded per second.
func (r Rates) Decay(v fixed.Q, span time.Duration) fixed.Q {
	f, err := r.keepSec.Pow(uint64(span / time.Second))
	if err != nil {
		return fixed.Zero // keepSec < 1: its powers never overflow
	}
	v, _ = v.Mul(f) // f ≤ 1: never overflows
	return v
}

// perSecond is the 3600th root of an hourly factor near 1, by bisection on
// exact powers: the largest r with r^3600 ≤ hourly.
func perSecond(hourly fixed.Q) fixed.Q {
	lo, hi := fixed.Zero, fixed.Max(hourly, fixed.One)
	for range 128 {
		mid, _ := lo.Add(hi)
		mid = mid.Half()
		if mid == lo {
			break
		}
		pw, err := mid.Pow(3600)
		if err == nil && pw.Cmp(hourly) <= 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
