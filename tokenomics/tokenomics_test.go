package tokenomics

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

var pool = token.PHA(700_000_000)

const day = 24 * time.Hour

func TestDefaultsValid(t *testing.T) {
	if err := DefaultParams().Validate(pool); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := map[string]func(*Params){
		"k zero":             func(p *Params) { p.K = fixed.Zero },
		"re below one":       func(p *Params) { p.Re = fixed.MustRatio(9, 10) },
		"v_max zero":         func(p *Params) { p.VMax = fixed.Zero },
		"growth below one":   func(p *Params) { p.GrowthPerHour = fixed.MustRatio(99, 100) },
		"slash one":          func(p *Params) { p.SlashPerHour = fixed.One },
		"treasury above one": func(p *Params) { p.TreasuryShare = fixed.MustRatio(11, 10) },
		"no budget":          func(p *Params) { p.BudgetPerDay = token.Amount{} },
		"decay every minute": func(p *Params) { p.DecayEvery = time.Minute },
		"no decay":           func(p *Params) { p.DecayFactor = fixed.One },
		"min score zero":     func(p *Params) { p.MinScore = 0 },
		"cool down negative": func(p *Params) { p.CoolDown = -time.Second },
		// 1M PHA a day for 180 days at 0.75 emits 720M: more than the pool.
		"emits beyond the pool": func(p *Params) { p.BudgetPerDay = token.PHA(1_000_000) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := DefaultParams()
			mutate(&p)
			if err := p.Validate(pool); !errors.Is(err, ErrParams) {
				t.Fatalf("Validate = %v, want ErrParams", err)
			}
		})
	}
}

func TestEmissionSchedule(t *testing.T) {
	p := DefaultParams()
	cases := []struct {
		at   time.Duration
		want token.Amount
	}{
		{0, token.Amount{}},
		{day, token.PHA(720_000)},
		{180 * day, token.PHA(129_600_000)},
		{181 * day, token.PHA(129_600_000 + 540_000)},
		{360 * day, token.PHA(129_600_000 + 97_200_000)},
	}
	for _, c := range cases {
		got, err := Emitted(p, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("Emitted(%v) = %s, want %s", c.at, got, c.want)
		}
	}
	total, err := TotalEmission(p)
	if err != nil || total != token.PHA(518_400_000) {
		t.Fatalf("TotalEmission = %s, %v; want 518.4M PHA", total, err)
	}
}

// The pool is never overdrawn: budgets of consecutive spans of any length
// (block times vary) add up to exactly what Emitted says at the end, which
// never exceeds the whole schedule, itself within the pool; over the
// chain's whole life.
func TestEmissionNeverOverdraws(t *testing.T) {
	p := DefaultParams()
	total, _ := TotalEmission(p)
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 20 {
		var at time.Duration
		var paid token.Amount
		limit := time.Duration(run+1) * 15 * 365 * day // up to 300 years
		for at < limit {
			step := time.Duration(rng.Int64N(int64(40 * day)))
			b, err := Budget(p, at, at+step)
			if err != nil {
				t.Fatal(err)
			}
			if paid, err = paid.Add(b); err != nil {
				t.Fatal(err)
			}
			at += step
		}
		emitted, _ := Emitted(p, at)
		if paid != emitted {
			t.Fatalf("run %d: spans paid %s, Emitted says %s", run, paid, emitted)
		}
		if paid.Cmp(total) > 0 || total.Cmp(pool) > 0 {
			t.Fatalf("run %d: paid %s of a schedule of %s, pool %s", run, paid, total, pool)
		}
	}
}

func TestSessionFormulas(t *testing.T) {
	p := DefaultParams()
	min, err := MinStake(p, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if got := min.String(); got != "2236067977499789" { // 50·sqrt(2000) PHA, in base units
		t.Errorf("MinStake(2000) = %s", got)
	}
	// Phala's worked example, with its re = 1.3: stake 4,472 PHA and P = 2000
	// give V ≈ 1.3·(4472 + 600) = 6593.6, share ≈ 7712.04.
	p.Re = fixed.MustRatio(13, 10)
	v, err := InitialValue(p, token.PHA(4472), 2000, ConfidenceUpToDate)
	if err != nil {
		t.Fatal(err)
	}
	if v.Floor() != 6593 {
		t.Errorf("InitialValue = %s, want about 6593.6", v)
	}
	share, err := Share(v, 2000, ConfidenceUpToDate)
	if err != nil {
		t.Fatal(err)
	}
	if share.Floor() != 7712 {
		t.Errorf("Share = %s, want about 7712.04", share)
	}
	if _, err := InitialValue(p, token.PHA(30_000), 2000, ConfidenceUpToDate); !errors.Is(err, ErrTooMuchStake) {
		t.Errorf("a stake beyond v_max: %v", err)
	}
	low, _ := InitialValue(p, token.PHA(4472), 2000, ConfidenceSimulated)
	if low.Cmp(v) >= 0 {
		t.Errorf("a simulated platform's value %s is not below %s", low, v)
	}
}

func TestGrowAndDecay(t *testing.T) {
	r, err := NewRates(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	v := fixed.Int(10_000)
	hour := r.Grow(v, 2000, time.Hour)
	// 10000·1.0002 + (0.0415625·2000 + 88.59375)/8760 ≈ 10002.0196
	if got := hour.String()[:10]; got != "10002.0196" {
		t.Errorf("an hour's growth: %s", hour)
	}
	if r.Grow(v, 2000, 0) != v {
		t.Error("no time, no growth")
	}
	if got := r.Grow(fixed.Int(29_999), 2000, 1000*time.Hour); got != DefaultParams().VMax {
		t.Errorf("growth is capped: %s", got)
	}
	decayed := r.Decay(v, time.Hour)
	if got := decayed.String()[:7]; got != "9990.00" && got != "9989.99" {
		t.Errorf("an hour's decay: %s", decayed)
	}
}

func BenchmarkShare(b *testing.B) {
	v := fixed.Int(6594)
	for b.Loop() {
		_, _ = Share(v, 2000, ConfidenceUpToDate)
	}
}
