// Package tokenomics holds the economy's formulas: the minimum stake and
// initial value of a computing session, the share that divides rewards,
// how a worker's value grows while it computes and decays while it does not
// answer, and the emission schedule of the reward pool. The ideas and
// default numbers are Phala's "Gemini" tokenomics (see
// shared/reference/phala-protocol.md §4); every period is expressed in
// time, not blocks, because devnet blocks are sub-second. All arithmetic is
// exact (package fixed, math/big): gatekeepers compute the same bytes on
// every machine and the chain counts identical settlements once.
package tokenomics

import (
	"errors"
	"fmt"
	"time"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// Params are the economy's parameters. Rates are per hour so that they do
// not depend on the block time.
type Params struct {
	// K sets the minimum stake of a session: K·sqrt(P) PHA.
	K fixed.Q `json:"k"`
	// Re multiplies the stake in the initial value for the best
	// confidence: V = ((Re−1)·confidence + 1)·(stake + RigK·P + RigB).
	Re fixed.Q `json:"re"`
	// RigK and RigB estimate a machine's cost from its score: RigK·P + RigB PHA.
	RigK fixed.Q `json:"rig_k"`
	RigB fixed.Q `json:"rig_b"`
	// VMax caps a worker's value.
	VMax fixed.Q `json:"v_max"`
	// GrowthPerHour is V's growth factor over an hour of computing (1.0002).
	GrowthPerHour fixed.Q `json:"growth_per_hour"`
	// CostK and CostB are the running cost added to V per hour: CostK·P + CostB.
	CostK fixed.Q `json:"cost_k"`
	CostB fixed.Q `json:"cost_b"`
	// SlashPerHour is the share of V lost per hour unresponsive (0.001).
	SlashPerHour fixed.Q `json:"slash_per_hour"`
	// TreasuryShare of every payout goes to the treasury (0.2).
	TreasuryShare fixed.Q `json:"treasury_share"`
	// BudgetPerDay is the reward emission per day in the first period.
	BudgetPerDay token.Amount `json:"budget_per_day"`
	// DecayEvery is the length of an emission period; each period emits
	// DecayFactor times the one before (0.75 every 180 days).
	DecayEvery  time.Duration `json:"decay_every"`
	DecayFactor fixed.Q       `json:"decay_factor"`
	// MinScore is the lowest performance score that may compute.
	MinScore uint64 `json:"min_score"`
	// CoolDown is how long a stopped session keeps its stake.
	CoolDown time.Duration `json:"cool_down"`
}

// DefaultParams are Phala's genesis values, per hour where Phala's were per
// block: 720,000 PHA a day for 180 days, then 25% less every 180 days, which
// emits 518.4 million PHA in all, within the 700 million of the pool.
func DefaultParams() Params {
	return Params{
		K:             fixed.Int(50),
		Re:            fixed.MustRatio(15, 10),
		RigK:          fixed.MustRatio(3, 10),
		RigB:          fixed.Zero,
		VMax:          fixed.Int(30_000),
		GrowthPerHour: fixed.MustRatio(10_002, 10_000),
		// Phala: 0.0415625·P + 88.59375 a year.
		CostK:         fixed.MustRatio(415_625, 10_000_000*8_760),
		CostB:         fixed.MustRatio(8_859_375, 100_000*8_760),
		SlashPerHour:  fixed.MustRatio(1, 1_000),
		TreasuryShare: fixed.MustRatio(2, 10),
		BudgetPerDay:  token.PHA(720_000),
		DecayEvery:    180 * 24 * time.Hour,
		DecayFactor:   fixed.MustRatio(3, 4),
		MinScore:      50,
		CoolDown:      7 * 24 * time.Hour,
	}
}

// ErrParams reports parameters out of their valid ranges.
var ErrParams = errors.New("tokenomics: parameter out of range")

// Validate checks every parameter against its range, and that the whole
// emission fits in pool: the schedule can then never overdraw it.
func (p Params) Validate(pool token.Amount) error {
	one := fixed.One
	checks := []struct {
		name string
		bad  bool
		want string
	}{
		{"k", p.K.IsZero() || p.K.Cmp(fixed.Int(10_000)) > 0, "in (0, 10000]"},
		{"re", p.Re.Cmp(one) < 0 || p.Re.Cmp(fixed.Int(10)) > 0, "in [1, 10]"},
		{"rig_k", p.RigK.Cmp(fixed.Int(1_000)) > 0, "at most 1000"},
		{"rig_b", p.RigB.Cmp(fixed.Int(1_000_000)) > 0, "at most 1000000"},
		{"v_max", p.VMax.IsZero() || p.VMax.Cmp(fixed.Int(1_000_000_000)) > 0, "in (0, 1e9]"},
		{"growth_per_hour", p.GrowthPerHour.Cmp(one) < 0 || p.GrowthPerHour.Cmp(fixed.MustRatio(11, 10)) > 0, "in [1, 1.1]"},
		{"cost_k", p.CostK.Cmp(one) > 0, "at most 1"},
		{"cost_b", p.CostB.Cmp(fixed.Int(1_000)) > 0, "at most 1000"},
		{"slash_per_hour", p.SlashPerHour.Cmp(one) >= 0, "below 1"},
		{"treasury_share", p.TreasuryShare.Cmp(one) > 0, "at most 1"},
		{"budget_per_day", p.BudgetPerDay.IsZero(), "positive"},
		{"decay_every", p.DecayEvery < time.Hour, "at least an hour"},
		{"decay_factor", p.DecayFactor.Cmp(one) >= 0, "below 1"},
		{"min_score", p.MinScore == 0, "positive"},
		{"cool_down", p.CoolDown < 0 || p.CoolDown > 365*24*time.Hour, "in [0, 1 year]"},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("%w: %s must be %s", ErrParams, c.name, c.want)
		}
	}
	total, err := TotalEmission(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrParams, err)
	}
	if total.Cmp(pool) > 0 {
		return fmt.Errorf("%w: the schedule emits %s base units in all, more than the pool's %s", ErrParams, total, pool)
	}
	return nil
}
