package pools

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

func pha(n uint64) token.Amount { return token.PHA(n) }

func units(n uint64) token.Amount { return token.FromUint64(n) }

// TestRewardSplitByHand: three delegators of 100, 300 and 600 PHA in a pool
// with 10% commission; a reward of 1,000 PHA gives the owner 100 and the
// delegators 90, 270 and 540, exactly.
func TestRewardSplitByHand(t *testing.T) {
	p := poolsapi.Pool{ID: 1, Commission: 100_000}
	ds := make([]poolsapi.Delegation, 3)
	for i, n := range []uint64{100, 300, 600} {
		if _, err := delegate(&p, &ds[i], pha(n)); err != nil {
			t.Fatal(err)
		}
	}
	owner, rest := reward(&p, pha(1000))
	if owner != pha(100) || rest != pha(900) {
		t.Fatalf("split %s / %s", owner, rest)
	}
	for i, want := range []uint64{90, 270, 540} {
		if got := pendingRewards(p, ds[i]); got != pha(want) {
			t.Errorf("delegator %d: %s, want %s", i, got.PHAString(), pha(want).PHAString())
		}
	}
	// A second reward after the first delegator brought 200 PHA more: of
	// 90% of 120 PHA, 300 of 1,200 shares earn 27 PHA, 600 earn 54. What
	// was earned before stays.
	if _, err := delegate(&p, &ds[0], pha(200)); err != nil {
		t.Fatal(err)
	}
	reward(&p, pha(120))
	for i, want := range []uint64{90 + 27, 270 + 27, 540 + 54} {
		if got := pendingRewards(p, ds[i]); got != pha(want) {
			t.Errorf("after the second reward, delegator %d: %s, want %d PHA", i, got.PHAString(), want)
		}
	}
	if p.OwnerRewards != pha(112) {
		t.Errorf("owner: %s", p.OwnerRewards.PHAString())
	}
}

// TestRewardDustIsCarried: one base unit a time over 10^15 shares of which
// a delegator holds a tenth: it earns 0.1 base unit each time, so nothing
// claimable after nine rewards and exactly one unit after ten; nothing is
// lost in between (the pool's Rewards count all ten).
func TestRewardDustIsCarried(t *testing.T) {
	p := poolsapi.Pool{ID: 1}
	var a, b poolsapi.Delegation
	mustDelegate(t, &p, &a, pha(100))
	mustDelegate(t, &p, &b, pha(900))
	for i := range 10 {
		if got := pendingRewards(p, a); !got.IsZero() && i < 10 {
			t.Fatalf("after %d rewards: %s", i, got)
		}
		reward(&p, units(1))
	}
	if got := pendingRewards(p, a); got != units(1) {
		t.Fatalf("after ten rewards: %s, want 1 unit", got)
	}
	if got := pendingRewards(p, b); got != units(9) {
		t.Fatalf("the other: %s, want 9 units", got)
	}
	if p.Rewards != units(10) {
		t.Fatalf("pool rewards %s", p.Rewards)
	}
	checkLedger(t, p, []*poolsapi.Delegation{&a, &b}, nil)
}

// TestRewardCarryAcrossRewards: 3 shares, rewards of 1 unit: the
// accumulator's remainder is carried so three rewards pay a unit each.
func TestRewardCarryAcrossRewards(t *testing.T) {
	p := poolsapi.Pool{ID: 1}
	ds := make([]poolsapi.Delegation, 3)
	for i := range ds {
		mustDelegate(t, &p, &ds[i], units(1))
	}
	for range 3 {
		reward(&p, units(1))
	}
	for i := range ds {
		if got := pendingRewards(p, ds[i]); got != units(1) {
			t.Fatalf("delegator %d: %s", i, got)
		}
	}
	if !p.Carry.IsZero() {
		t.Fatalf("carry %s after an exact total", p.Carry)
	}
}

func TestNoSharesOwnerTakesAll(t *testing.T) {
	p := poolsapi.Pool{ID: 1, Commission: 100_000}
	owner, rest := reward(&p, pha(5))
	if owner != pha(5) || !rest.IsZero() || p.OwnerRewards != pha(5) {
		t.Fatalf("owner %s rest %s", owner, rest)
	}
}

func TestCommissionBounds(t *testing.T) {
	for _, c := range []tokenomics.Permill{0, 1, 500_000, tokenomics.Million} {
		p := poolsapi.Pool{ID: 1, Commission: c}
		var d poolsapi.Delegation
		mustDelegate(t, &p, &d, pha(1))
		owner, rest := reward(&p, units(1_000_001))
		want := uint64(c) * 1_000_001 / 1_000_000
		if owner != units(want) || mustAdd(owner, rest) != units(1_000_001) {
			t.Errorf("commission %s: owner %s rest %s", c, owner, rest)
		}
	}
}

func TestDelegateRefusals(t *testing.T) {
	p := poolsapi.Pool{ID: 1, Capacity: pha(10)}
	var d poolsapi.Delegation
	mustDelegate(t, &p, &d, pha(10))
	before := codec.MustMarshal(p)
	if _, err := delegate(&p, &d, units(1)); !errors.Is(err, poolsapi.ErrCapacity) {
		t.Fatalf("beyond capacity: %v", err)
	}
	if !bytes.Equal(codec.MustMarshal(p), before) {
		t.Fatal("a refused delegation changed the pool")
	}
	// Slashing took all the stake: the shares are worth nothing and new
	// money may not buy in.
	p = poolsapi.Pool{ID: 1}
	mustDelegate(t, &p, &d, pha(10))
	if err := lock(&p, pha(10)); err != nil {
		t.Fatal(err)
	}
	slashed(&p, pha(10))
	if _, err := delegate(&p, &d, pha(1)); !errors.Is(err, poolsapi.ErrWorthless) {
		t.Fatalf("into worthless shares: %v", err)
	}
	// A price above one: a unit buys no share.
	p = poolsapi.Pool{ID: 1}
	d = poolsapi.Delegation{}
	mustDelegate(t, &p, &d, units(2))
	if err := lock(&p, units(1)); err != nil {
		t.Fatal(err)
	}
	returned(&p, units(1), units(1), false)
	p.Stake, p.Free = units(4), units(4) // as if the stake had doubled
	if _, err := delegate(&p, &d, units(1)); !errors.Is(err, poolsapi.ErrBelowMin) {
		t.Fatalf("a unit at price 2: %v", err)
	}
}

// TestWithdrawalBeyondShares: a delegator cannot queue more shares than
// it holds, counting those already queued.
func TestWithdrawalBeyondShares(t *testing.T) {
	p := poolsapi.Pool{ID: 1}
	var d poolsapi.Delegation
	mustDelegate(t, &p, &d, pha(10))
	if err := enqueue(&p, &d, mustAdd(pha(10), units(1))); !errors.Is(err, poolsapi.ErrBeyondShares) {
		t.Fatalf("beyond shares: %v", err)
	}
	if err := enqueue(&p, &d, pha(6)); err != nil {
		t.Fatal(err)
	}
	if err := enqueue(&p, &d, pha(5)); !errors.Is(err, poolsapi.ErrBeyondShares) {
		t.Fatalf("beyond the shares not yet queued: %v", err)
	}
	if err := enqueue(&p, &d, token.Amount{}); !errors.Is(err, poolsapi.ErrBeyondShares) {
		t.Fatalf("no shares: %v", err)
	}
	if d.Queued != pha(6) || p.Queued != pha(6) {
		t.Fatalf("queued %s / %s", d.Queued, p.Queued)
	}
}

// TestServePartly: 100 PHA delegated, 70 locked in a session; a request
// for 50 is paid 30 now and 20 when the session's stake returns.
func TestServePartly(t *testing.T) {
	p := poolsapi.Pool{ID: 1}
	var d poolsapi.Delegation
	mustDelegate(t, &p, &d, pha(100))
	if err := lock(&p, pha(70)); err != nil {
		t.Fatal(err)
	}
	if err := enqueue(&p, &d, pha(50)); err != nil {
		t.Fatal(err)
	}
	e := poolsapi.QueueEntry{Shares: pha(50)}
	paid, served := serve(&p, &d, &e)
	if paid != pha(30) || served != pha(30) || e.Shares != pha(20) {
		t.Fatalf("paid %s served %s left %s", paid, served, e.Shares)
	}
	if paid, served := serve(&p, &d, &e); !paid.IsZero() || !served.IsZero() {
		t.Fatalf("served again without free stake: %s %s", paid, served)
	}
	releasing(&p, pha(70))
	returned(&p, pha(70), pha(70), true)
	paid, served = serve(&p, &d, &e)
	if paid != pha(20) || served != pha(20) || !e.Shares.IsZero() {
		t.Fatalf("after the return: paid %s served %s left %s", paid, served, e.Shares)
	}
	if d.Shares != pha(50) || !d.Queued.IsZero() || p.Free != pha(50) || p.Stake != pha(50) || !p.Releasing.IsZero() {
		t.Fatalf("after: %+v %+v", d, p)
	}
}

// TestSlashLowersTheSharePrice: a tenth of the locked stake lost costs every
// share a tenth of what the locked part backed.
func TestSlashLowersTheSharePrice(t *testing.T) {
	p := poolsapi.Pool{ID: 1}
	var a, b poolsapi.Delegation
	mustDelegate(t, &p, &a, pha(100))
	mustDelegate(t, &p, &b, pha(300))
	if err := lock(&p, pha(200)); err != nil {
		t.Fatal(err)
	}
	slashed(&p, pha(20))
	if got := tokenomics.ShareValue(a.Shares, p.Shares, p.Stake); got != pha(95) {
		t.Fatalf("a: %s", got.PHAString())
	}
	if got := tokenomics.ShareValue(b.Shares, p.Shares, p.Stake); got != pha(285) {
		t.Fatalf("b: %s", got.PHAString())
	}
	// The session returns the rest: 180.
	returned(&p, pha(180), pha(180), false)
	if p.Free != pha(380) || p.Stake != pha(380) || !p.Locked.IsZero() {
		t.Fatalf("after the return: %+v", p)
	}
	// New money buys at the new price: 38 PHA buys 40 shares.
	var c poolsapi.Delegation
	mustDelegate(t, &p, &c, pha(38))
	if c.Shares != pha(40) {
		t.Fatalf("38 PHA bought %s shares", c.Shares)
	}
}

func TestClaim(t *testing.T) {
	p := poolsapi.Pool{ID: 1, Commission: 500_000}
	var d, o poolsapi.Delegation
	mustDelegate(t, &p, &d, pha(10))
	reward(&p, pha(4)) // 2 to the owner, 2 to d
	if _, err := claim(&p, &d, false, pha(3)); !errors.Is(err, poolsapi.ErrBeyondRewards) {
		t.Fatalf("beyond rewards: %v", err)
	}
	got, err := claim(&p, &d, false, pha(1))
	if err != nil || got != pha(1) {
		t.Fatalf("claim 1: %s %v", got, err)
	}
	got, err = claim(&p, &d, false, token.Amount{})
	if err != nil || got != pha(1) {
		t.Fatalf("claim the rest: %s %v", got, err)
	}
	if _, err := claim(&p, &d, false, token.Amount{}); !errors.Is(err, poolsapi.ErrBeyondRewards) {
		t.Fatalf("nothing left: %v", err)
	}
	// The owner, with no shares, claims the commission.
	got, err = claim(&p, &o, true, token.Amount{})
	if err != nil || got != pha(2) || !p.OwnerRewards.IsZero() || !p.Rewards.IsZero() {
		t.Fatalf("owner: %s %v %+v", got, err, p)
	}
}

func mustDelegate(t *testing.T, p *poolsapi.Pool, d *poolsapi.Delegation, a token.Amount) {
	t.Helper()
	if _, err := delegate(p, d, a); err != nil {
		t.Fatal(err)
	}
}

// checkLedger asserts the ledger's invariants (see ledger.go).
func checkLedger(t *testing.T, p poolsapi.Pool, ds []*poolsapi.Delegation, queue []poolsapi.QueueEntry) {
	t.Helper()
	if err := ledgerInvariants(p, ds, queue); err != nil {
		t.Fatal(err)
	}
}

func ledgerInvariants(p poolsapi.Pool, ds []*poolsapi.Delegation, queue []poolsapi.QueueEntry) error {
	if mustAdd(p.Free, p.Locked) != p.Stake {
		return fmt.Errorf("stake %s ≠ free %s + locked %s", p.Stake, p.Free, p.Locked)
	}
	if p.Releasing.Cmp(p.Locked) > 0 {
		return fmt.Errorf("releasing %s above locked %s", p.Releasing, p.Locked)
	}
	var shares, queued, entries token.Amount
	rewards := p.Carry.Int()
	acc := p.RewardPerShare.Int()
	for _, d := range ds {
		shares, queued = mustAdd(shares, d.Shares), mustAdd(queued, d.Queued)
		if d.Queued.Cmp(d.Shares) > 0 {
			return fmt.Errorf("queued %s above shares %s", d.Queued, d.Shares)
		}
		owed := new(big.Int).Mul(d.Shares.Big(), acc)
		owed.Sub(owed, d.Paid.Int())
		if owed.Sign() < 0 {
			return fmt.Errorf("paid %s above shares·acc", d.Paid)
		}
		rewards.Add(rewards, owed)
		rewards.Add(rewards, d.Pending.Int())
	}
	for _, e := range queue {
		entries = mustAdd(entries, e.Shares)
	}
	if shares != p.Shares || queued != p.Queued {
		return fmt.Errorf("shares %s/%s, queued %s/%s", shares, p.Shares, queued, p.Queued)
	}
	if queue != nil && entries != p.Queued {
		return fmt.Errorf("queue entries hold %s shares, pool says %s", entries, p.Queued)
	}
	want := new(big.Int).Mul(p.Rewards.Big(), tokenomics.RewardScale)
	if rewards.Cmp(want) != 0 {
		return fmt.Errorf("rewards·10^24 = %s, positions and carry hold %s", want, rewards)
	}
	return nil
}

// TestLedgerConservation drives a pool through random delegations,
// undelegations, queue service, rewards, claims, sessions starting,
// stopping, slashed and returning, with PHA moved as the handlers move it
// between accounts, and checks after every step that the ledger's
// invariants hold, the pool's account holds exactly Free + Rewards +
// OwnerRewards, and no PHA is created or lost.
func TestLedgerConservation(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runLedger(t, seed) })
	}
}

type ledgerWorld struct {
	p        poolsapi.Pool
	ds       []*poolsapi.Delegation
	wallets  []token.Amount // delegators' balances; the owner is the last
	account  token.Amount   // the pool's account
	sessions []token.Amount // the pool's count of each session's stake
	cooling  []bool
	lost     []token.Amount // slashed, the pool not yet told
	compute  token.Amount   // held by the compute module
	treasury token.Amount   // slashed stake
	source   token.Amount   // the reward pool
	queue    []poolsapi.QueueEntry
	queueOf  []int

	served, claimed, released int
}

func (w *ledgerWorld) total() token.Amount {
	sum := mustAdd(mustAdd(w.account, w.compute), mustAdd(w.treasury, w.source))
	for _, b := range w.wallets {
		sum = mustAdd(sum, b)
	}
	return sum
}

func move(from, to *token.Amount, a token.Amount) error {
	f, err := from.Sub(a)
	if err != nil {
		return fmt.Errorf("moving %s from %s: %w", a, *from, err)
	}
	*from, *to = f, mustAdd(*to, a)
	return nil
}

func runLedger(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	w := &ledgerWorld{p: poolsapi.Pool{ID: 1, Commission: tokenomics.Permill(rng.IntN(1_000_001))}, source: pha(1_000_000)}
	const n = 4
	for range n {
		w.ds = append(w.ds, &poolsapi.Delegation{})
		w.wallets = append(w.wallets, pha(10_000))
	}
	w.wallets = append(w.wallets, token.Amount{}) // the owner's
	start := w.total()
	amount := func(max uint64) token.Amount {
		// Odd amounts, so that rounding is exercised.
		return units(1 + rng.Uint64N(max*1_000_000_000_000))
	}
	for step := range 400 {
		i := rng.IntN(n)
		var err error
		switch op := rng.IntN(9); op {
		case 0, 1:
			a := amount(500)
			if a.Cmp(w.wallets[i]) > 0 {
				continue
			}
			if _, err = delegate(&w.p, w.ds[i], a); err == nil {
				err = move(&w.wallets[i], &w.account, a)
			}
		case 2:
			free, _ := w.ds[i].Shares.Sub(w.ds[i].Queued)
			if free.IsZero() {
				continue
			}
			s := units(1 + rng.Uint64N(lo(free)))
			if err = enqueue(&w.p, w.ds[i], s); err == nil {
				w.queue = append(w.queue, poolsapi.QueueEntry{Shares: s})
				w.queueOf = append(w.queueOf, i)
			}
		case 3:
			err = w.serveAll()
		case 4:
			r := amount(50)
			reward(&w.p, r)
			err = move(&w.source, &w.account, r)
		case 5:
			var got token.Amount
			if got, err = claim(&w.p, w.ds[i], false, token.Amount{}); errors.Is(err, poolsapi.ErrBeyondRewards) {
				err = nil
			} else if err == nil {
				w.claimed++
				err = move(&w.account, &w.wallets[i], got)
			}
			if err == nil && rng.IntN(3) == 0 && !w.p.OwnerRewards.IsZero() {
				var owner poolsapi.Delegation
				if got, err = claim(&w.p, &owner, true, token.Amount{}); err == nil {
					err = move(&w.account, &w.wallets[n], got)
				}
			}
		case 6:
			if w.p.Free.IsZero() {
				continue
			}
			s := units(1 + rng.Uint64N(lo(w.p.Free)))
			if err = lock(&w.p, s); err == nil {
				w.sessions, w.cooling, w.lost = append(w.sessions, s), append(w.cooling, false), append(w.lost, token.Amount{})
				err = move(&w.account, &w.compute, s)
			}
		case 7:
			err = w.endSession(rng)
		case 8:
			// A slash: compute sends part of a session's stake to the
			// treasury and tells the pool now (a stop) or at the release.
			if len(w.sessions) == 0 {
				continue
			}
			k := rng.IntN(len(w.sessions))
			left := mustSub(w.sessions[k], w.lost[k])
			loss := units(rng.Uint64N(lo(left) + 1))
			if err = move(&w.compute, &w.treasury, loss); err != nil {
				break
			}
			if !w.cooling[k] && rng.IntN(2) == 0 { // a stop that tells the pool
				slashed(&w.p, mustAdd(w.lost[k], loss))
				w.sessions[k] = mustSub(left, loss)
				w.lost[k] = token.Amount{}
				releasing(&w.p, w.sessions[k])
				w.cooling[k] = true
			} else {
				w.lost[k] = mustAdd(w.lost[k], loss)
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if err := ledgerInvariants(w.p, w.ds, w.queue); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		var cooling, locked token.Amount
		for k, s := range w.sessions {
			locked = mustAdd(locked, s)
			if w.cooling[k] {
				cooling = mustAdd(cooling, s)
			}
		}
		if cooling != w.p.Releasing || locked != w.p.Locked {
			t.Fatalf("step %d: sessions hold %s (%s cooling), the pool counts %s (%s)", step, locked, cooling, w.p.Locked, w.p.Releasing)
		}
		if held := mustAdd(mustAdd(w.p.Free, w.p.Rewards), w.p.OwnerRewards); held != w.account {
			t.Fatalf("step %d: the account holds %s, the pool counts %s", step, w.account, held)
		}
		if w.total() != start {
			t.Fatalf("step %d: total %s, started with %s", step, w.total(), start)
		}
	}
	// The walk must have reached the interesting states, or it proves little.
	if w.served == 0 || w.claimed == 0 || w.released == 0 || w.p.RewardPerShare.IsZero() {
		t.Fatalf("a dull walk: %d served, %d claimed, %d released", w.served, w.claimed, w.released)
	}
}

// endSession stops a session (it cools down) or returns a cooling one.
func (w *ledgerWorld) endSession(rng *rand.Rand) error {
	if len(w.sessions) == 0 {
		return nil
	}
	k := rng.IntN(len(w.sessions))
	if !w.cooling[k] {
		releasing(&w.p, w.sessions[k])
		w.cooling[k] = true
		return nil
	}
	s, back := w.sessions[k], mustSub(w.sessions[k], w.lost[k])
	returned(&w.p, s, back, true)
	w.released++
	w.sessions = append(w.sessions[:k], w.sessions[k+1:]...)
	w.cooling = append(w.cooling[:k], w.cooling[k+1:]...)
	w.lost = append(w.lost[:k], w.lost[k+1:]...)
	if err := move(&w.compute, &w.account, back); err != nil {
		return err
	}
	return w.serveAll()
}

func (w *ledgerWorld) serveAll() error {
	for len(w.queue) > 0 {
		i := w.queueOf[0]
		paid, served := serve(&w.p, w.ds[i], &w.queue[0])
		if served.IsZero() {
			return nil
		}
		if err := move(&w.account, &w.wallets[i], paid); err != nil {
			return err
		}
		w.served++
		if !w.queue[0].Shares.IsZero() {
			return nil
		}
		w.queue, w.queueOf = w.queue[1:], w.queueOf[1:]
	}
	return nil
}

func lo(a token.Amount) uint64 {
	hi, l := a.Uint128()
	if hi != 0 {
		return ^uint64(0) - 1
	}
	return l
}

// TestRewardsMatchExactShares: a reference model keeps every delegator's
// entitlement as an exact rational (each reward's delegators' part times
// its shares over all shares at that moment); the ledger's withdrawn plus
// pending rewards are that entitlement rounded down, or one base unit
// less (the accumulator's per-reward rounding, below 10^-24 a share, can
// tip a boundary), for random delegations, withdrawals and rewards.
func TestRewardsMatchExactShares(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 99))
		p := poolsapi.Pool{ID: 1, Commission: tokenomics.Permill(rng.IntN(1_000_001))}
		const n = 5
		ds := make([]poolsapi.Delegation, n)
		exact := make([]*big.Rat, n)
		got := make([]token.Amount, n) // withdrawn so far
		for i := range exact {
			exact[i] = new(big.Rat)
		}
		for step := range 300 {
			i := rng.IntN(n)
			switch rng.IntN(4) {
			case 0:
				mustDelegate(t, &p, &ds[i], units(1+rng.Uint64N(1e15)))
			case 1:
				if ds[i].Shares.IsZero() {
					continue
				}
				e := poolsapi.QueueEntry{Shares: units(1 + rng.Uint64N(lo(ds[i].Shares)))}
				if err := enqueue(&p, &ds[i], e.Shares); err != nil {
					t.Fatal(err)
				}
				serve(&p, &ds[i], &e) // all stake is free: served whole
				if !e.Shares.IsZero() {
					t.Fatalf("seed %d step %d: %s shares left unserved", seed, step, e.Shares)
				}
			case 2:
				if p.Shares.IsZero() {
					continue
				}
				r := units(1 + rng.Uint64N(1e14))
				owner := p.Commission.Of(r)
				part := new(big.Rat).SetInt(mustSub(r, owner).Big())
				for j := range ds {
					share := new(big.Rat).SetFrac(ds[j].Shares.Big(), p.Shares.Big())
					exact[j].Add(exact[j], new(big.Rat).Mul(part, share))
				}
				reward(&p, r)
			case 3:
				if a, err := claim(&p, &ds[i], false, token.Amount{}); err == nil {
					got[i] = mustAdd(got[i], a)
				}
			}
			for j := range ds {
				have := mustAdd(got[j], pendingRewards(p, ds[j])).Big()
				floor := new(big.Int).Quo(exact[j].Num(), exact[j].Denom())
				if d := new(big.Int).Sub(floor, have); d.Sign() < 0 || d.Cmp(big.NewInt(1)) > 0 {
					t.Fatalf("seed %d step %d: delegator %d has %s, exactly %s", seed, step, j, have, exact[j].FloatString(6))
				}
			}
		}
	}
}
