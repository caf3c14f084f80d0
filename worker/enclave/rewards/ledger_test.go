package rewards

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

const sec = int64(time.Second)

func testRates(t testing.TB, p computeapi.Params) tokenomics.Rates {
	t.Helper()
	r, err := tokenomics.NewRates(p.Economy)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// advance counts whole seconds and carries the rest, so no time is lost
// or counted twice however block times split a span; V is then grown
// over exactly the whole seconds between the points it was advanced at.
func TestAdvanceWholeSeconds(t *testing.T) {
	p := computeapi.DevnetParams()
	r := testRates(t, p)
	whole := Account{Score: 2000, V: fixed.Int(5000)}
	whole.advance(r, 10*sec)
	split := Account{Score: 2000, V: fixed.Int(5000)}
	v := fixed.Int(5000)
	for _, at := range []int64{sec / 3, 2 * sec / 3, sec + 1, 4*sec + sec/2, 4*sec + sec/2, 9*sec + sec - 1, 10 * sec} {
		before := split.UpdatedAt
		split.advance(r, at)
		v = r.Grow(v, 2000, time.Duration(split.UpdatedAt-before))
	}
	if split.V != v || split.Active != 10 || whole.Active != 10 || split.UpdatedAt != 10*sec {
		t.Fatalf("split: V %s (want %s) active %d at %d; whole: active %d", split.V, v, split.Active, split.UpdatedAt, whole.Active)
	}
	// A split span compounds the running cost added in its first steps
	// (and rounds each step on its own): it ends a hair above the span
	// taken at once; every gatekeeper splits at the same blocks.
	d := fixed.Max(whole.V.SubFloor(split.V), split.V.SubFloor(whole.V))
	if d.Cmp(fixed.MustRatio(1, 1_000_000_000)) > 0 {
		t.Fatalf("split V %s, whole %s", split.V, whole.V)
	}
	if want := r.Grow(fixed.Int(5000), 2000, 10*time.Second); whole.V != want {
		t.Fatalf("V = %s, want %s", whole.V, want)
	}
	if grown := whole.V.SubFloor(fixed.Int(5000)); whole.Payable != grown || grown.IsZero() {
		t.Fatalf("payable %s, grown %s", whole.Payable, grown)
	}
	// Going back in time or less than a second changes nothing.
	before := split
	split.advance(r, 5*sec)
	split.advance(r, 10*sec+sec-1)
	if split.V != before.V || split.UpdatedAt != before.UpdatedAt {
		t.Fatal("advance moved without a whole second")
	}
	// Unresponsive: V decays, nothing is payable, nothing active.
	down := Account{Score: 2000, V: fixed.Int(5000), Payable: fixed.Int(3), Unresponsive: true}
	down.advance(r, 3600*sec)
	if want := r.Decay(fixed.Int(5000), time.Hour); down.V != want || !down.Payable.IsZero() || down.Active != 0 {
		t.Fatalf("decayed: %+v, want V %s", down, want)
	}
}

// settle divides the period's budget by share × active fraction among the
// responsive sessions, never more than the budget, and takes the pool's
// part of each reward out of V up to what V grew.
func TestSettle(t *testing.T) {
	p := computeapi.DevnetParams()
	r := testRates(t, p)
	per := Period{N: 3, Start: 100 * sec, Length: p.SettleEvery}
	begin := per.End() - int64(p.SettleEvery)
	v0 := fixed.Int(6000)
	accounts := []Account{
		{Session: 1, Score: 2000, Confidence: 1, V: v0, UpdatedAt: begin},                        // the whole period
		{Session: 2, Score: 2000, Confidence: 1, V: v0, UpdatedAt: begin + 5*sec},                // half of it
		{Session: 3, Score: 2000, Confidence: 1, V: v0, UpdatedAt: begin, Unresponsive: true},    // nothing
		{Session: 4, Score: 2000, Confidence: 1, V: v0, UpdatedAt: begin, StopHeight: 9},         // stopped at once
		{Session: 5, Score: 2000, Confidence: 1, V: v0, UpdatedAt: begin + 2*sec, StopHeight: 9}, // stopped, had been active
	}
	accounts[4].Active = 2
	entries, err := settle(p, r, per, accounts)
	if err != nil {
		t.Fatal(err)
	}
	budget, _ := per.Budget(p.Economy)
	want, _ := tokenomics.Budget(p.Economy, 20*time.Second, 30*time.Second)
	if budget != want || budget.IsZero() {
		t.Fatalf("budget %s, want %s", budget, want)
	}
	var paid token.Amount
	for _, e := range entries {
		paid, _ = paid.Add(e.Reward)
	}
	if paid.Cmp(budget) > 0 {
		t.Fatalf("paid %s of %s", paid, budget)
	}
	if !entries[2].Reward.IsZero() || entries[2].State != computeapi.StateUnresponsive || !entries[3].Reward.IsZero() {
		t.Fatalf("unresponsive or idle sessions paid: %+v", entries)
	}
	// Session 1 and 2 grow alike per second; 2 is active half as long and
	// has a little less V: a bit less than half of 1's reward.
	r1, r2, r5 := entries[0].Reward.Big(), entries[1].Reward.Big(), entries[4].Reward.Big()
	half := new(big.Int).Rsh(r1, 1)
	if r2.Cmp(half) > 0 || r2.Cmp(new(big.Int).Sub(half, new(big.Int).Rsh(half, 8))) < 0 {
		t.Fatalf("rewards %s and %s: want the second just under half the first", r1, r2)
	}
	if r5.Sign() == 0 || r5.Cmp(r2) >= 0 {
		t.Fatalf("a session stopped after 2 s got %s (the one of 5 s got %s)", r5, r2)
	}
	// V: grown, less the pool's part of the reward, never below where it
	// started (the reward here is larger than the growth).
	for _, i := range []int{0, 1} {
		if entries[i].V != v0 {
			t.Fatalf("session %d: V %s, want back at %s (reward beyond growth)", i+1, entries[i].V, v0)
		}
		if !accounts[i].Payable.IsZero() || accounts[i].Active != 0 {
			t.Fatalf("session %d not reset: %+v", i+1, accounts[i])
		}
	}
}

// With a budget too small to cover the growth, V keeps what was not paid.
func TestSettleSmallBudgetKeepsGrowth(t *testing.T) {
	p := computeapi.DevnetParams()
	p.Economy.BudgetPerDay = token.FromUint64(1)
	r := testRates(t, p)
	per := Period{N: 1, Start: 0, Length: time.Hour}
	accounts := []Account{{Session: 1, Score: 2000, Confidence: 1, V: fixed.Int(6000)}}
	entries, err := settle(p, r, per, accounts)
	if err != nil {
		t.Fatal(err)
	}
	grown := r.Grow(fixed.Int(6000), 2000, time.Hour)
	if entries[0].V.Cmp(grown) > 0 || entries[0].V.Cmp(fixed.Int(6000)) <= 0 {
		t.Fatalf("V %s: want about the grown %s", entries[0].V, grown)
	}
}

func TestParts(t *testing.T) {
	for _, n := range []int{0, 1, computeapi.MaxSettlementWorkers, computeapi.MaxSettlementWorkers + 1, 2500} {
		entries := make([]computeapi.WorkerSettlement, n)
		for i := range entries {
			entries[i] = computeapi.WorkerSettlement{Session: uint64(i + 1), State: computeapi.StateComputing}
		}
		parts := Parts(7, entries)
		var seen int
		for i, raw := range parts {
			s, err := computeapi.DecodeSettlement(raw)
			if err != nil {
				t.Fatalf("%d sessions, part %d: %v", n, i, err)
			}
			if s.Period != 7 || int(s.Part) != i || int(s.Parts) != len(parts) {
				t.Fatalf("%d sessions: part %+v", n, s)
			}
			seen += len(s.Workers)
		}
		if seen != n || len(parts) != max(1, (n+computeapi.MaxSettlementWorkers-1)/computeapi.MaxSettlementWorkers) {
			t.Fatalf("%d sessions in %d parts, %d seen", n, len(parts), seen)
		}
	}
}

// TestPayTakesThePoolsPart: over random treasury shares and rewards, a
// settlement takes out of V exactly the pool's part of the session's
// reward: the reward less its treasury part, the exact reward·share
// rounded to the nearest base unit (halves up). The chain pays the pool
// the same parts (chain/compute TestSettlementSplitsEachReward checks it
// against this rule), so the gatekeepers' ledger and the chain's payout
// agree to the unit.
func TestPayTakesThePoolsPart(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	e := computeapi.DevnetParams().Economy
	for i := range 5000 {
		e.TreasuryShare = fixed.FromBits(0, rng.Uint64())
		if i%10 == 0 {
			e.TreasuryShare = fixed.MustRatio(2, 10)
		}
		reward := token.FromUint64(rng.Uint64N(10_000 * 1_000_000_000_000)) // up to 10,000 PHA
		if i%3 == 0 {
			reward = token.FromUint64(rng.Uint64N(20)) // a few base units
		}
		_, lo := e.TreasuryShare.Bits()
		cut := new(big.Int).Mul(reward.Big(), new(big.Int).SetUint64(lo))
		cut.Add(cut, new(big.Int).Lsh(big.NewInt(1), 63)).Rsh(cut, 64)
		pool := new(big.Int).Sub(reward.Big(), cut)
		poolPart, err := token.FromBig(pool)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tokenomics.PHA(poolPart)
		if err != nil {
			t.Fatal(err)
		}
		v := fixed.Int(30_000)
		a := Account{V: v, Payable: v} // growth beyond any reward here
		if err := a.pay(e, reward); err != nil {
			t.Fatal(err)
		}
		if took := v.SubFloor(a.V); took != want {
			t.Fatalf("share %s, reward %s: V lost %s, want the pool's part %s PHA", e.TreasuryShare, reward, took, want)
		}
	}
}
