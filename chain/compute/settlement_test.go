package compute_test

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// budget is what period (from 1) of n's economy emits.
func (n *net) budget(period uint64) token.Amount {
	n.T.Helper()
	every := n.params.SettleEvery
	b, err := tokenomics.Budget(n.params.Economy, time.Duration(period-1)*every, time.Duration(period)*every)
	if err != nil {
		n.T.Fatal(err)
	}
	return b
}

// split is the treasury's cut of a reward and the rest, as the chain
// computes it.
func (n *net) split(reward token.Amount) (net, cut token.Amount) {
	return n.params.Economy.Split(reward)
}

func TestSettlementPaysFromTheRewardPool(t *testing.T) {
	n := newNet(t)
	w1 := n.worker(score)
	w2 := n.worker(score)
	n.Block(n.Tx(apptest.Carol, computeapi.MethodStart, computeapi.Start{Worker: w1.Pub(), Stake: minStake}),
		n.Signed(apptest.Carol, n.Account(apptest.Carol.Addr).Nonce+1, computeapi.MethodStart, computeapi.Start{Worker: w2.Pub(), Stake: minStake}))
	s1, s2 := n.session(w1), n.session(w2)
	if s1.StartHeight != s2.StartHeight {
		t.Fatal("sessions did not start in one block")
	}
	if n.economyStart() != time.Unix(0, s1.StartedAt) {
		t.Fatalf("economy started at %s, first session at %s", n.economyStart(), time.Unix(0, s1.StartedAt))
	}

	n.mustRefuse(n.gk, computeapi.TopicSettlement, computeapi.Settlement{Period: 1, Parts: 1}, computeapi.ErrFuturePeriod)
	n.untilPeriodEnds(1)
	budget := n.budget(1)
	reward := must[token.Amount](t)(budget.Sub(token.FromUint64(7))) // gatekeepers round down
	v1, v2 := fixed.Int(4400), fixed.Int(4300)
	settle1 := computeapi.Settlement{Period: 1, Parts: 1, Workers: []computeapi.WorkerSettlement{
		{Session: s1.ID, State: computeapi.StateComputing, V: v1, Reward: reward},
		{Session: s2.ID, State: computeapi.StateUnresponsive, V: v2},
	}}
	pool, treasury, rewards := n.balance(poolAccount), n.balance(bankapi.Treasury), n.balance(bankapi.RewardPool)
	n.mustAccept(n.gk, computeapi.TopicSettlement, settle1)
	net, cut := n.split(reward)
	fifth := new(big.Int).Mul(reward.Big(), big.NewInt(2)) // ⌊reward/5 + 1/2⌋ = ⌊(2·reward + 5)/10⌋
	fifth.Add(fifth, big.NewInt(5)).Quo(fifth, big.NewInt(10))
	if cut.Big().Cmp(fifth) != 0 || cut.IsZero() {
		t.Fatalf("treasury's cut %s of %s is not a fifth rounded to nearest (%s)", cut, reward, fifth)
	}
	if got := n.balance(poolAccount); got != must[token.Amount](t)(pool.Add(net)) {
		t.Fatalf("pool account %s, want %s + %s", got, pool, net)
	}
	fee := token.PHA(1)
	if got := n.balance(bankapi.Treasury); got != must[token.Amount](t)(treasury.Add(must[token.Amount](t)(cut.Add(fee)))) {
		t.Fatalf("treasury %s, want %s + %s + the fee", got, treasury, cut)
	}
	if got := n.balance(bankapi.RewardPool); got != must[token.Amount](t)(rewards.Sub(reward)) {
		t.Fatalf("reward pool %s, want %s − %s", got, rewards, reward)
	}
	if len(n.pool.rewarded) != 1 || n.pool.rewarded[0] != net {
		t.Fatalf("pools told of rewards %v, want [%s]", n.pool.rewarded, net)
	}
	got1, got2 := n.session(w1), n.session(w2)
	if got1.V != v1 || got1.Rewards != reward || got1.SettledPeriod != 1 || got1.State != computeapi.StateComputing {
		t.Fatalf("session 1 after settlement: %+v", got1)
	}
	if got2.V != v2 || !got2.Rewards.IsZero() || got2.State != computeapi.StateUnresponsive {
		t.Fatalf("session 2 after settlement: %+v", got2)
	}
	info := n.rewardPool()
	if info.Paid != net || info.ToTreasury != cut || info.Period != 1 || info.Computing != 2 || info.Balance != n.balance(bankapi.RewardPool) {
		t.Fatalf("reward pool info %+v", info)
	}

	// The second gatekeeper's identical copy counts once.
	r := n.send(n.gk2, computeapi.TopicSettlement, settle1)
	if !apptest.HasEvent(r.Events, mq.EventDuplicateContent) || n.balance(poolAccount) != must[token.Amount](t)(pool.Add(net)) {
		t.Fatalf("a second gatekeeper's identical settlement: events %v", r.Events)
	}

	// Period 2 in two parts; session 2 recovers.
	n.untilPeriodEnds(2)
	budget2 := n.budget(2)
	part0 := computeapi.Settlement{Period: 2, Part: 0, Parts: 2, Workers: []computeapi.WorkerSettlement{{Session: s1.ID, State: computeapi.StateComputing, V: v1, Reward: token.PHA(10)}}}
	part1 := computeapi.Settlement{Period: 2, Part: 1, Parts: 2, Workers: []computeapi.WorkerSettlement{{Session: s2.ID, State: computeapi.StateComputing, V: v2, Reward: token.PHA(20)}}}
	tooMuch := part1
	tooMuch.Workers = []computeapi.WorkerSettlement{{Session: s2.ID, State: computeapi.StateComputing, V: v2, Reward: must[token.Amount](t)(budget2.Sub(token.PHA(10)))}}
	tooMuch.Workers[0].Reward, _ = tooMuch.Workers[0].Reward.Add(token.FromUint64(1))

	// (A gatekeeper's refused content counts as sent: the mq module
	// remembers it, so each refusal below differs from what is accepted.)
	refusals := []struct {
		name string
		from apptest.TEENode
		s    computeapi.Settlement
		want error
	}{
		{"from a worker", w1, part0, computeapi.ErrNotGatekeeper},
		{"a settled period", n.gk2, computeapi.Settlement{Period: 1, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: s1.ID, State: computeapi.StateComputing, V: v2}}}, computeapi.ErrStalePeriod},
		{"a period not ended", n.gk, computeapi.Settlement{Period: 3, Parts: 1}, computeapi.ErrFuturePeriod},
		{"a new period's second part first", n.gk, computeapi.Settlement{Period: 2, Part: 1, Parts: 2}, computeapi.ErrBadPart},
		{"more than the budget", n.gk, computeapi.Settlement{Period: 2, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: s1.ID, State: computeapi.StateComputing, V: v1, Reward: must[token.Amount](t)(budget2.Add(token.FromUint64(1)))}}}, computeapi.ErrOverBudget},
		{"an unknown session", n.gk, computeapi.Settlement{Period: 2, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: 99, State: computeapi.StateComputing, V: v1}}}, computeapi.ErrUnknownSession},
		{"a value above v_max", n.gk, computeapi.Settlement{Period: 2, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: s1.ID, State: computeapi.StateComputing, V: fixed.Int(30_001)}}}, computeapi.ErrInvalid},
		{"a reward while unresponsive", n.gk, computeapi.Settlement{Period: 2, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: s2.ID, State: computeapi.StateUnresponsive, V: v2, Reward: token.PHA(1)}}}, computeapi.ErrInvalid},
		{"sessions out of order", n.gk, computeapi.Settlement{Period: 2, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: s2.ID, State: computeapi.StateComputing, V: v2}, {Session: s1.ID, State: computeapi.StateComputing, V: v1}}}, computeapi.ErrInvalid},
		{"a part beyond the parts", n.gk, computeapi.Settlement{Period: 2, Part: 2, Parts: 2}, computeapi.ErrInvalid},
		{"not CBOR", n.gk, computeapi.Settlement{}, computeapi.ErrInvalid},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			var payload any = c.s
			if c.name == "not CBOR" {
				payload = []byte{0xa0}
			}
			n.mustRefuse(c.from, computeapi.TopicSettlement, payload, c.want)
		})
	}

	n.mustAccept(n.gk, computeapi.TopicSettlement, part0)
	later := []struct {
		name string
		s    computeapi.Settlement
		want error
	}{
		{"the same part again, changed", computeapi.Settlement{Period: 2, Part: 0, Parts: 2}, computeapi.ErrStalePeriod},
		{"another count of parts", computeapi.Settlement{Period: 2, Part: 1, Parts: 3}, computeapi.ErrBadPart},
		{"sessions not after the last part's", computeapi.Settlement{Period: 2, Part: 1, Parts: 2, Workers: []computeapi.WorkerSettlement{{Session: s1.ID, State: computeapi.StateComputing, V: v1}}}, computeapi.ErrInvalid},
		{"the rest of the budget exceeded", tooMuch, computeapi.ErrOverBudget},
	}
	for _, c := range later {
		t.Run(c.name, func(t *testing.T) { n.mustRefuse(n.gk, computeapi.TopicSettlement, c.s, c.want) })
	}
	n.mustAccept(n.gk, computeapi.TopicSettlement, part1)
	if got := n.session(w2); got.State != computeapi.StateComputing || got.Rewards != token.PHA(20) {
		t.Fatalf("session 2 after recovering: %+v", got)
	}
	var recovered bool
	for _, raw := range n.Published(computeapi.TopicSession) {
		var ev computeapi.SessionEvent
		if codec.UnmarshalCanonical(raw, &ev) == nil && ev.Kind == computeapi.KindRecovered && ev.Session.ID == s2.ID {
			recovered = true
		}
	}
	if !recovered {
		t.Fatal("no recovered message for enclaves")
	}

	// A period may be skipped (no gatekeeper settled it): its budget
	// stays in the pool.
	n.untilPeriodEnds(4)
	n.mustAccept(n.gk, computeapi.TopicSettlement, computeapi.Settlement{Period: 4, Parts: 1})
	n.mustRefuse(n.gk, computeapi.TopicSettlement, computeapi.Settlement{Period: 3, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: s1.ID, State: computeapi.StateComputing, V: v1}}}, computeapi.ErrStalePeriod)
}

// TestStoppedSessionSettlesItsLastPeriod: a session stopped during a
// period is still settled for it; one stopped before it is not.
func TestStoppedSessionSettlesItsLastPeriod(t *testing.T) {
	n := newNet(t)
	w := n.worker(score)
	if err := n.start(w, minStake); err != nil {
		t.Fatal(err)
	}
	id := n.session(w).ID
	if err := n.txErr(apptest.Carol, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}); err != nil {
		t.Fatal(err)
	}
	n.untilPeriodEnds(1)
	n.mustAccept(n.gk, computeapi.TopicSettlement, computeapi.Settlement{Period: 1, Parts: 1, Workers: []computeapi.WorkerSettlement{
		{Session: id, State: computeapi.StateComputing, V: fixed.Int(4400), Reward: token.PHA(1)},
	}})
	if got := n.session(w); got.State != computeapi.StateCoolingDown || got.Rewards != token.PHA(1) {
		t.Fatalf("a stopped session after its last settlement: %+v", got)
	}
	n.untilPeriodEnds(2)
	n.mustRefuse(n.gk, computeapi.TopicSettlement, computeapi.Settlement{Period: 2, Parts: 1, Workers: []computeapi.WorkerSettlement{
		{Session: id, State: computeapi.StateComputing, V: fixed.Int(4400), Reward: token.PHA(1)},
	}}, computeapi.ErrUnknownSession)
}

// nearestPart is the oracle for the treasury's part of a reward: the
// exact reward·share (share's 64 fraction bits) rounded to the nearest
// base unit, halves up, in big integers. The gatekeepers' ledger test
// (worker/enclave/rewards TestPayTakesThePoolsPart) checks the enclave
// against the same rule.
func nearestPart(reward token.Amount, share fixed.Q) token.Amount {
	hi, lo := share.Bits()
	if hi > 0 {
		return reward
	}
	n := new(big.Int).Mul(reward.Big(), new(big.Int).SetUint64(lo))
	n.Add(n, new(big.Int).Lsh(big.NewInt(1), 63)).Rsh(n, 64)
	a, _ := token.FromBig(n)
	return a
}

// TestSettlementSplitsEachReward: over random treasury shares and random
// rewards (small ones among them, whose parts round differently alone and
// summed), a settlement pays the pool exactly the sum of each session's
// reward less its treasury part, and the treasury the sum of those parts:
// the parts the gatekeepers take out of each session's V, to the unit.
func TestSettlementSplitsEachReward(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2))
	share := fixed.FromBits(0, rng.Uint64())
	n := newNet(t, func(p *computeapi.Params) { p.Economy.TreasuryShare = share })
	share = n.params.Economy.TreasuryShare
	workers := []apptest.TEENode{n.worker(score), n.worker(score), n.worker(score)}
	for _, w := range workers {
		if err := n.start(w, minStake); err != nil {
			t.Fatal(err)
		}
	}
	var sessions []computeapi.Session
	for _, w := range workers {
		sessions = append(sessions, n.session(w))
	}
	differs := 0 // periods where splitting the sum would pay otherwise
	first := uint64((n.Now.Sub(n.economyStart()))/n.params.SettleEvery) + 1
	for period := first; period < first+6; period++ {
		n.untilPeriodEnds(period)
		n.Block()
		third := n.budget(period).Big()
		third.Quo(third, big.NewInt(3)) // three rewards within the budget
		s := computeapi.Settlement{Period: period, Parts: 1}
		var wantNet, wantCut, sum token.Amount
		for i, sess := range sessions {
			r := token.FromUint64(rng.Uint64N(5) + 1) // a few base units: rounding shows
			if i == 0 || period%2 == 0 {
				x := new(big.Int).Mul(third, new(big.Int).SetUint64(rng.Uint64()))
				r = must[token.Amount](t)(token.FromBig(x.Rsh(x, 64)))
			}
			cut := nearestPart(r, share)
			wantCut = must[token.Amount](t)(wantCut.Add(cut))
			wantNet = must[token.Amount](t)(wantNet.Add(must[token.Amount](t)(r.Sub(cut))))
			sum = must[token.Amount](t)(sum.Add(r))
			s.Workers = append(s.Workers, computeapi.WorkerSettlement{Session: sess.ID, State: computeapi.StateComputing, V: sess.V, Reward: r})
		}
		sumNetOfSum := must[token.Amount](t)(sum.Sub(nearestPart(sum, share)))
		if sumNetOfSum != wantNet {
			differs++
		}
		pool, before := n.balance(poolAccount), n.rewardPool()
		n.mustAccept(n.gk, computeapi.TopicSettlement, s)
		if got := must[token.Amount](t)(n.balance(poolAccount).Sub(pool)); got != wantNet {
			t.Fatalf("period %d, share %s: pool got %s, want %s (splitting the sum would give %s)", period, share, got, wantNet, sumNetOfSum)
		}
		after := n.rewardPool()
		if got := must[token.Amount](t)(after.ToTreasury.Sub(before.ToTreasury)); got != wantCut {
			t.Fatalf("period %d, share %s: treasury's part %s, want %s", period, share, got, wantCut)
		}
		if got := n.pool.rewarded[len(n.pool.rewarded)-1]; got != wantNet {
			t.Fatalf("period %d: pools told of %s, paid %s", period, got, wantNet)
		}
	}
	if differs == 0 {
		t.Fatal("no period where a split of the sum would differ: the test shows nothing")
	}
}
