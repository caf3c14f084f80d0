package rewards

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// computing is a gatekeeper holding n sessions computing since the
// economy's start, every tenth unresponsive, scores and stakes varied.
func computing(tb testing.TB, n int) *Module {
	tb.Helper()
	p := computeapi.DefaultParams()
	m, err := New(nil, Config{Params: p})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		score := uint64(500 + i%3000)
		stake, _ := tokenomics.MinStake(p.Economy, score)
		stake, _ = stake.Add(token.PHA(uint64(i % 1000)))
		v, err := tokenomics.InitialValue(p.Economy, stake, score, tokenomics.Confidence(1+i%5))
		if err != nil {
			tb.Fatal(err)
		}
		id := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
		m.st.Accounts = append(m.st.Accounts, Account{
			Session: uint64(i + 1), Worker: id[:], Score: score, Confidence: tokenomics.Confidence(1 + i%5),
			StartHeight: 1, V: v, Unresponsive: i%10 == 9,
		})
	}
	return m
}

// BenchmarkSettle10k: a gatekeeper settles a period of 10,000 computing
// sessions (V brought to the period's end, shares, the budget divided,
// V reduced, the ten parts encoded). The target is under 50 ms.
func BenchmarkSettle10k(b *testing.B) {
	m := computing(b, 10_000)
	per := Period{Start: 0, Length: m.st.Params.SettleEvery}
	var parts int
	for b.Loop() {
		per.N++
		out, err := m.settle(per)
		if err != nil {
			b.Fatal(err)
		}
		parts = len(out)
	}
	if parts != 10 {
		b.Fatalf("%d parts", parts)
	}
}

// BenchmarkChallenge10k: a gatekeeper replays one block's challenge rule
// over 10,000 sessions.
func BenchmarkChallenge10k(b *testing.B) {
	m := computing(b, 10_000)
	target := computeapi.ChallengeTarget(10_000, computeapi.ExpectedChallenges(10_000, time.Second, m.st.Params.ChallengeEvery, m.st.Params.MaxChallengesPerBlock))
	c := computeapi.Challenge{Height: 2, Time: int64(time.Second), Target: target}
	for b.Loop() {
		c.Height++
		c.Seed = computeapi.ChallengeSeed("bench", c.Height, nil)
		m.challenge(c)
		m.expire(c.Time + int64(time.Hour)) // keep the queue short
	}
}

// TestSettle10kWithinBudget: the settlement of 10,000 sessions pays no
// more than the period's budget and pays every responsive session.
func TestSettle10kWithinBudget(t *testing.T) {
	m := computing(t, 10_000)
	per := Period{N: 1, Start: 0, Length: m.st.Params.SettleEvery}
	out, err := m.settle(per)
	if err != nil {
		t.Fatal(err)
	}
	budget, _ := per.Budget(m.st.Params.Economy)
	var paid token.Amount
	var n int
	for _, raw := range out {
		s, err := computeapi.DecodeSettlement(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range s.Workers {
			paid, _ = paid.Add(w.Reward)
			if w.State == computeapi.StateComputing && w.Reward.IsZero() {
				t.Fatalf("session %d computed and got nothing", w.Session)
			}
			n++
		}
	}
	if n != 10_000 || paid.Cmp(budget) > 0 {
		t.Fatalf("%d sessions paid %s of %s", n, paid, budget)
	}
	short, _ := budget.Sub(paid)
	if short.Cmp(token.FromUint64(10_000)) > 0 {
		t.Fatalf("%s of %s left unpaid: more than a unit a session", short, budget)
	}
}
