package pools

import (
	"math/big"
	"strings"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// The ledger: how a pool's record and its delegators' positions change,
// as pure functions of the records, so the bookkeeping is tested apart
// from state and accounts. The handlers read records, call these, move
// the PHA they say and write the records back.
//
// What they keep true (TestLedgerConservation):
//   - Stake = Free + Locked, Releasing ≤ Locked;
//   - Shares = the sum of positions' shares, Queued the sum of queued ones;
//   - Rewards·10^24 = Carry + the sum over positions of
//     Pending + Shares·RewardPerShare − Paid: every base unit of reward is
//     some delegator's, or the carry that the next reward spreads.

// settle brings d's rewards up to date, before its shares change.
func settle(p *poolsapi.Pool, d *poolsapi.Delegation) {
	acc := p.RewardPerShare.Int()
	earned := tokenomics.Earned(d.Shares, acc, d.Paid.Int())
	if earned.Sign() > 0 {
		d.Pending = poolsapi.NewScaled(earned.Add(earned, d.Pending.Int()))
	}
	d.Paid = poolsapi.NewScaled(acc.Mul(acc, d.Shares.Big()))
}

// pendingRewards is what d may claim now, in whole base units.
func pendingRewards(p poolsapi.Pool, d poolsapi.Delegation) token.Amount {
	earned := tokenomics.Earned(d.Shares, p.RewardPerShare.Int(), d.Paid.Int())
	whole, _ := tokenomics.Claimable(earned.Add(earned, d.Pending.Int()))
	return whole
}

// delegate adds amount to the pool's free stake for shares at the pool's
// price. The caller checks the minimum and moves the PHA.
func delegate(p *poolsapi.Pool, d *poolsapi.Delegation, amount token.Amount) (token.Amount, error) {
	shares, err := tokenomics.SharesFor(amount, p.Shares, p.Stake)
	if err != nil {
		return shares, poolsapi.ErrWorthless.Wrapf("pool %s: %v", p.ID, err)
	}
	if shares.IsZero() {
		return shares, poolsapi.ErrBelowMin.Wrapf("%s buys no share at the pool's price", amount.PHAString())
	}
	stake, err := p.Stake.Add(amount)
	if err != nil {
		return shares, poolsapi.ErrInvalid.Wrapf("stake overflow")
	}
	if !p.Capacity.IsZero() && stake.Cmp(p.Capacity) > 0 {
		return shares, poolsapi.ErrCapacity.Wrapf("stake would be %s, capacity %s", stake.PHAString(), p.Capacity.PHAString())
	}
	settle(p, d)
	p.Stake = stake
	p.Free = mustAdd(p.Free, amount)
	p.Shares = mustAdd(p.Shares, shares)
	d.Shares = mustAdd(d.Shares, shares)
	d.Paid = poolsapi.NewScaled(new(big.Int).Mul(p.RewardPerShare.Int(), d.Shares.Big()))
	return shares, nil
}

// enqueue puts shares of d's in the withdrawal queue; they keep earning
// until served.
func enqueue(p *poolsapi.Pool, d *poolsapi.Delegation, shares token.Amount) error {
	free, _ := d.Shares.Sub(d.Queued)
	if shares.IsZero() || shares.Cmp(free) > 0 {
		return poolsapi.ErrBeyondShares.Wrapf("undelegating %s shares, %s held and not already queued", shareCount(shares), shareCount(free))
	}
	d.Queued = mustAdd(d.Queued, shares)
	p.Queued = mustAdd(p.Queued, shares)
	return nil
}

// serve pays as much of a queue entry as free stake covers: the shares
// whose value fits in Free are burnt and their value is paid. It returns
// the amount to pay and the shares served; e.Shares keeps the rest.
func serve(p *poolsapi.Pool, d *poolsapi.Delegation, e *poolsapi.QueueEntry) (paid, served token.Amount) {
	served = e.Shares
	value := tokenomics.ShareValue(served, p.Shares, p.Stake)
	if value.Cmp(p.Free) > 0 {
		served = tokenomics.SharesWorth(p.Free, p.Shares, p.Stake)
		value = tokenomics.ShareValue(served, p.Shares, p.Stake)
	}
	if served.IsZero() {
		return token.Amount{}, served
	}
	settle(p, d)
	p.Shares = mustSub(p.Shares, served)
	p.Queued = mustSub(p.Queued, served)
	p.Stake = mustSub(p.Stake, value)
	p.Free = mustSub(p.Free, value)
	d.Shares = mustSub(d.Shares, served)
	d.Queued = mustSub(d.Queued, served)
	e.Shares = mustSub(e.Shares, served)
	d.Paid = poolsapi.NewScaled(new(big.Int).Mul(p.RewardPerShare.Int(), d.Shares.Big()))
	dropDust(p, d)
	return value, served
}

// reward splits a worker's reward, already in the pool's account: the
// commission to the owner, the rest per share. With no shares (nothing
// delegated), the owner takes it all.
func reward(p *poolsapi.Pool, amount token.Amount) (owner, delegators token.Amount) {
	owner = p.Commission.Of(amount)
	delegators = mustSub(amount, owner)
	if p.Shares.IsZero() {
		owner, delegators = amount, token.Amount{}
	}
	if !delegators.IsZero() {
		acc, carry := tokenomics.Accrue(p.RewardPerShare.Int(), p.Carry.Int(), delegators, p.Shares)
		p.RewardPerShare, p.Carry = poolsapi.NewScaled(acc), poolsapi.NewScaled(carry)
		p.Rewards = mustAdd(p.Rewards, delegators)
	}
	p.OwnerRewards = mustAdd(p.OwnerRewards, owner)
	p.TotalRewards = mustAdd(p.TotalRewards, amount)
	return owner, delegators
}

// claim takes amount (zero: all) of d's rewards, and for the owner of the
// commission after them, and returns what to pay.
func claim(p *poolsapi.Pool, d *poolsapi.Delegation, isOwner bool, amount token.Amount) (token.Amount, error) {
	settle(p, d)
	mine, _ := tokenomics.Claimable(d.Pending.Int())
	commission := token.Amount{}
	if isOwner {
		commission = p.OwnerRewards
	}
	all := mustAdd(mine, commission)
	if amount.IsZero() {
		amount = all
	}
	if amount.IsZero() {
		return token.Amount{}, poolsapi.ErrBeyondRewards.Wrapf("no rewards pending in pool %s", p.ID)
	}
	if amount.Cmp(all) > 0 {
		return token.Amount{}, poolsapi.ErrBeyondRewards.Wrapf("asked %s, pending %s", amount.PHAString(), all.PHAString())
	}
	fromMine := amount
	if fromMine.Cmp(mine) > 0 {
		fromMine = mine
	}
	rest := mustSub(amount, fromMine)
	pending := d.Pending.Int()
	d.Pending = poolsapi.NewScaled(pending.Sub(pending, new(big.Int).Mul(fromMine.Big(), tokenomics.RewardScale)))
	p.Rewards = mustSub(p.Rewards, fromMine)
	p.OwnerRewards = mustSub(p.OwnerRewards, rest)
	dropDust(p, d)
	return amount, nil
}

// dropDust hands a position that holds no shares and less than a base unit
// of rewards back to the pool: the fraction joins the carry, which the
// next reward spreads, so the record can go and nothing is lost.
func dropDust(p *poolsapi.Pool, d *poolsapi.Delegation) {
	if !d.Shares.IsZero() || d.Pending.IsZero() || d.Pending.Int().Cmp(tokenomics.RewardScale) >= 0 {
		return
	}
	p.Carry = poolsapi.NewScaled(new(big.Int).Add(p.Carry.Int(), d.Pending.Int()))
	d.Pending = poolsapi.Scaled{}
}

// lock moves stake from Free into a session.
func lock(p *poolsapi.Pool, stake token.Amount) error {
	free, err := p.Free.Sub(stake)
	if err != nil {
		return poolsapi.ErrNoStake.Wrapf("a session of %s, %s free", stake.PHAString(), p.Free.PHAString())
	}
	p.Free, p.Locked = free, mustAdd(p.Locked, stake)
	return nil
}

// releasing marks a session's stake as cooling down.
func releasing(p *poolsapi.Pool, stake token.Amount) {
	p.Releasing = minAmount(mustAdd(p.Releasing, stake), p.Locked)
}

// slashed takes a loss of locked stake: every share is worth less.
func slashed(p *poolsapi.Pool, loss token.Amount) {
	loss = minAmount(loss, p.Locked)
	p.Locked = mustSub(p.Locked, loss)
	p.Stake = mustSub(p.Stake, loss)
	p.Releasing = minAmount(p.Releasing, p.Locked)
}

// slashedCooling takes a loss of stake already cooling down (booked as
// releasing): it leaves Releasing as well, since it will not come back.
func slashedCooling(p *poolsapi.Pool, loss token.Amount) {
	loss = minAmount(loss, p.Locked)
	p.Releasing = mustSub(p.Releasing, minAmount(loss, p.Releasing))
	slashed(p, loss)
}

// returned brings a session's stake back to Free after its cool-down:
// stake is what the pool counts in the session, back what the session
// returns; the difference was slashed.
func returned(p *poolsapi.Pool, stake, back token.Amount, cooling bool) {
	stake = minAmount(stake, p.Locked)
	back = minAmount(back, stake)
	if cooling {
		p.Releasing = mustSub(p.Releasing, minAmount(stake, p.Releasing))
	}
	p.Locked = mustSub(p.Locked, stake)
	p.Stake = mustSub(p.Stake, mustSub(stake, back))
	p.Free = mustAdd(p.Free, back)
	p.Releasing = minAmount(p.Releasing, p.Locked)
}

// shareCount writes shares as the CLI reads them: counted like PHA (a
// fresh pool's share is one base unit).
func shareCount(a token.Amount) string { return strings.TrimSuffix(a.PHAString(), " PHA") }

// mustAdd and mustSub are for sums the invariants bound (parts of the
// supply, differences of a whole and its part): they cannot fail on a
// consistent record, and saturate rather than wrap on a corrupt one.
func mustAdd(a, b token.Amount) token.Amount {
	s, err := a.Add(b)
	if err != nil {
		return token.FromUint128(^uint64(0), ^uint64(0))
	}
	return s
}

func mustSub(a, b token.Amount) token.Amount {
	d, err := a.Sub(b)
	if err != nil {
		return token.Amount{}
	}
	return d
}

func minAmount(a, b token.Amount) token.Amount {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}
