package pools_test

import (
	"maps"
	"math/big"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// economy is a chain whose workers compute in pools: the compute module
// settles every hour from a schedule that is flat over the test's years
// (the harness's genesis is in 1970 and its blocks in 2023, so Phala's
// decay would have emptied every period), bob runs a gatekeeper and alice
// operates the workers and owns pool 1.
type economy struct {
	*apptest.Chain
	gk     apptest.TEENode
	params computeapi.Params
	pool   poolsapi.ID
}

func newEconomy(t *testing.T, editPools func(*poolsapi.Params)) *economy {
	t.Helper()
	cp := computeapi.DefaultParams()
	cp.SettleEvery = time.Hour
	cp.Economy.DecayEvery = 36_500 * 24 * time.Hour
	cp.Economy.DecayFactor = fixed.Zero
	cp.Economy.BudgetPerDay = token.PHA(19_000) // 693.5M PHA over the 100 years
	opts := []apptest.Option{apptest.WithGenesis(func(g *app.Genesis) {
		g.Modules[computeapi.Name] = mustJSON(computeapi.Genesis{Params: cp})
	})}
	if editPools != nil {
		opts = append(opts, withParams(editPools))
	}
	c := newChain(t, opts...)
	e := &economy{Chain: c}
	if err := c.Query(computeapi.QueryParams, nil, &e.params); err != nil {
		t.Fatal(err)
	}
	c.MustSucceed(c.Tx(alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: bob.Addr}, Allowed: true}))
	e.gk = c.Register(bob, registryapi.RoleGatekeeper)
	e.pool = create(t, c, alice, 100_000) // 10% commission
	return e
}

// worker registers a worker alice operates, reports its score and adds
// it to the pool.
func (e *economy) worker(score uint64) apptest.TEENode {
	e.T.Helper()
	w := e.Register(alice, registryapi.RoleWorker)
	e.egress(w, computeapi.TopicBenchmark, computeapi.Benchmark{Score: score})
	e.MustSucceed(e.Tx(alice, poolsapi.MethodAddWorker, poolsapi.WorkerBody{Pool: e.pool, Worker: w.Pub()}))
	return w
}

// egress has node send payload, relayed by carol, and requires the chain
// to accept it.
func (e *economy) egress(node apptest.TEENode, topic string, payload any) *abci.ExecTxResult {
	e.T.Helper()
	r := e.Block(e.Submit(carol, apptest.Egress(node, e.EgressSeq(node)+1, topic, codec.MustMarshal(payload)))).TxResults[0]
	if r.Code != 0 {
		e.T.Fatalf("mq.submit: %s", r.Log)
	}
	if err := apptest.Rejection(r.Events); err != nil || !apptest.HasEvent(r.Events, mq.EventAccepted) {
		e.T.Fatalf("%s refused: %v", topic, err)
	}
	return r
}

func (e *economy) session(w apptest.TEENode) computeapi.Session {
	e.T.Helper()
	var info computeapi.WorkerInfo
	if err := e.Query(computeapi.QueryWorker, w.Pub(), &info); err != nil || info.Session == nil {
		e.T.Fatalf("worker info %+v: %v", info, err)
	}
	return *info.Session
}

// settle has the gatekeeper settle the period the session started in
// (after moving the clock past its end), paying gross to its pool.
func (e *economy) settle(sess computeapi.Session, gross token.Amount) {
	e.T.Helper()
	var em computeapi.EmissionInfo
	if err := e.Query(computeapi.QueryEmission, nil, &em); err != nil {
		e.T.Fatal(err)
	}
	every := int64(e.params.SettleEvery)
	period := uint64((sess.StartedAt-em.Start)/every) + 1
	if end := em.Start + int64(period)*every; e.Now.UnixNano() < end {
		e.Now = time.Unix(0, end)
	}
	e.egress(e.gk, computeapi.TopicSettlement, computeapi.Settlement{Period: period, Parts: 1, Workers: []computeapi.WorkerSettlement{
		{Session: sess.ID, State: computeapi.StateComputing, V: sess.V, Reward: gross},
	}})
}

// net is what a pool receives of a gross reward: the treasury's part
// taken (tokenomics.Params.Split, the rule of compute and the gatekeepers).
func (e *economy) net(gross token.Amount) token.Amount {
	net, _ := e.params.Economy.Split(gross)
	return net
}

// checkAccount: the pool's account holds exactly its free stake and its
// unclaimed rewards, and its locked stake is in compute's stake account.
func (e *economy) checkAccount(id poolsapi.ID) poolsapi.PoolInfo {
	e.T.Helper()
	t := e.T.(*testing.T)
	info := pool(t, e.Chain, id)
	p := info.Pool
	if want := add(t, p.Free, p.Rewards, p.OwnerRewards); info.Balance != want {
		t.Fatalf("pool %s's account holds %s, its books %s", id, info.Balance, want)
	}
	if want := add(t, p.Free, p.Locked); p.Stake != want {
		t.Fatalf("pool %s: stake %s ≠ free + locked %s", id, p.Stake, want)
	}
	return info
}

func floorDiv(a token.Amount, num, den uint64) token.Amount {
	n := a.Big()
	n.Mul(n, new(big.Int).SetUint64(num))
	n.Quo(n, new(big.Int).SetUint64(den))
	out, _ := token.FromBig(n)
	return out
}

// TestComputingThroughAPool: the owner starts its worker with the pool's
// stake (refusals from either module first), a delegator's undelegation
// is paid in part at once and queued for the rest, a settlement's reward
// reaches the owner and each delegator in the amounts worked out by hand,
// and the stake comes back after the cool-down and pays the queue.
func TestComputingThroughAPool(t *testing.T) {
	e := newEconomy(t, nil)
	w := e.worker(2000) // minimum stake 50·sqrt(2000) ≈ 2,236 PHA
	c := e.Chain
	c.MustSucceed(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(1000)}))
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(3000)}))

	start := func(from apptest.Account, stake token.Amount) []byte {
		return c.Tx(from, computeapi.MethodStart, computeapi.Start{Worker: w.Pub(), Stake: stake})
	}
	e.refuse(bob, start(bob, pha(3000)), poolsapi.ErrNotOwner)
	e.refuse(alice, start(alice, pha(4001)), poolsapi.ErrNoStake)
	e.refuse(alice, start(alice, pha(2000)), computeapi.ErrStakeTooLow)
	stranger := c.Register(alice, registryapi.RoleWorker)
	e.refuse(alice, c.Tx(alice, computeapi.MethodStart, computeapi.Start{Worker: stranger.Pub(), Stake: pha(3000)}), poolsapi.ErrWorkerNotInPool)
	c.MustSucceed(start(alice, pha(3000)))
	sess := e.session(w)
	if sess.State != computeapi.StateComputing || sess.Pool != uint64(e.pool) || sess.Account != poolsapi.Account(e.pool) || sess.Stake != pha(3000) {
		t.Fatalf("session %+v", sess)
	}
	info := e.checkAccount(e.pool)
	if info.Pool.Free != pha(1000) || info.Pool.Locked != pha(3000) {
		t.Fatalf("after the start: %+v", info.Pool)
	}
	e.refuse(alice, start(alice, pha(500)), poolsapi.ErrWorkerBusy)
	e.refuse(alice, c.Tx(alice, poolsapi.MethodRemoveWorker, poolsapi.WorkerBody{Pool: e.pool, Worker: w.Pub()}), poolsapi.ErrWorkerBusy)

	// Carol leaves: 1,000 PHA are free and paid now, 2,000 wait.
	carol0 := balance(c, carol.Addr)
	c.MustSucceed(c.Tx(carol, poolsapi.MethodUndelegate, poolsapi.Undelegate{Pool: e.pool, Shares: pha(3000)}))
	if got, want := balance(c, carol.Addr), sub(t, add(t, carol0, pha(1000)), fee); got != want {
		t.Fatalf("carol got %s, want %s", got, want)
	}
	if p := position(t, c, e.pool, carol.Addr); p.Shares != pha(2000) || p.Queued != pha(2000) || p.Value != pha(2000) {
		t.Fatalf("carol's position %+v", p)
	}
	var q []poolsapi.QueueEntry
	if err := c.Query(poolsapi.QueryQueue, codec.MustMarshal(e.pool), &q); err != nil || len(q) != 1 || q[0].Shares != pha(2000) || q[0].Delegator != carol.Addr {
		t.Fatalf("queue %+v %v", q, err)
	}

	// A reward of 600 PHA: the treasury takes 20%, the owner 10% of the
	// rest, and the delegators share what is left by shares: bob 1,000 of
	// 3,000, carol (still queued, still earning) 2,000.
	gross := pha(600)
	e.settle(sess, gross)
	net := e.net(gross)
	owner := floorDiv(net, 1, 10)
	rest := sub(t, net, owner)
	wantBob, wantCarol := floorDiv(rest, 1, 3), floorDiv(rest, 2, 3)
	if p := position(t, c, e.pool, bob.Addr); p.Rewards != wantBob {
		t.Fatalf("bob's pending rewards %s, want %s", p.Rewards.PHAString(), wantBob.PHAString())
	}
	if p := position(t, c, e.pool, carol.Addr); p.Rewards != wantCarol {
		t.Fatalf("carol's pending rewards %s, want %s", p.Rewards.PHAString(), wantCarol.PHAString())
	}
	if p := position(t, c, e.pool, alice.Addr); p.Commission != owner || !p.Rewards.IsZero() {
		t.Fatalf("alice's position %+v, want commission %s", p, owner)
	}
	info = e.checkAccount(e.pool)
	if info.Pool.TotalRewards != net {
		t.Fatalf("pool received %s, want %s", info.Pool.TotalRewards, net)
	}

	// Nobody withdraws more than is pending; each withdraws exactly that.
	e.refuse(bob, c.Tx(bob, poolsapi.MethodWithdraw, poolsapi.Withdraw{Pool: e.pool, Amount: add(t, wantBob, token.FromUint64(1))}), poolsapi.ErrBeyondRewards)
	for _, who := range []struct {
		acc  apptest.Account
		want token.Amount
	}{{bob, wantBob}, {carol, wantCarol}, {alice, owner}} {
		before := balance(c, who.acc.Addr)
		c.MustSucceed(c.Tx(who.acc, poolsapi.MethodWithdraw, poolsapi.Withdraw{Pool: e.pool}))
		if got, want := balance(c, who.acc.Addr), sub(t, add(t, before, who.want), fee); got != want {
			t.Fatalf("%s withdrew to %s, want %s", who.acc.Addr, got, want)
		}
	}
	if p := position(t, c, e.pool, bob.Addr); !p.Rewards.IsZero() {
		t.Fatalf("bob still has %s pending", p.Rewards)
	}
	e.checkAccount(e.pool)

	// The owner stops the worker: its stake is releasing, and after the
	// cool-down comes back and pays carol's 2,000.
	e.refuse(bob, c.Tx(bob, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}), poolsapi.ErrNotOwner)
	c.MustSucceed(c.Tx(alice, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}))
	if info := e.checkAccount(e.pool); info.Pool.Releasing != pha(3000) {
		t.Fatalf("after the stop: %+v", info.Pool)
	}
	carol1 := balance(c, carol.Addr)
	c.Now = c.Now.Add(e.params.Economy.CoolDown)
	resp := c.Block()
	if !hasEvent(resp.Events, poolsapi.EventStakeReturned) || !hasEvent(resp.Events, poolsapi.EventWithdrawal) {
		t.Fatalf("the release block's events: %v", resp.Events)
	}
	if got, want := balance(c, carol.Addr), add(t, carol1, pha(2000)); got != want {
		t.Fatalf("carol after the release %s, want %s", got, want)
	}
	info = e.checkAccount(e.pool)
	if info.Pool.Stake != pha(1000) || info.Pool.Free != pha(1000) || !info.Pool.Locked.IsZero() || info.Pool.Head != info.Pool.Tail {
		t.Fatalf("after the release: %+v", info.Pool)
	}
	c.MustSucceed(c.Tx(alice, poolsapi.MethodRemoveWorker, poolsapi.WorkerBody{Pool: e.pool, Worker: w.Pub()}))
}

// refuse requires raw to be refused with want while sessions compute (so
// the block publishes a challenge and compute writes, which
// MustRefuseCharged would count): the sender pays the fee, and nothing of
// the pools module, the pool's account or the stake account changes.
func (e *economy) refuse(from apptest.Account, raw []byte, want error) {
	e.T.Helper()
	t := e.T.(*testing.T)
	before := e.poolsState()
	watched := []address.Address{from.Addr, poolsapi.Account(e.pool), computeapi.StakeAccount}
	balances := make([]token.Amount, len(watched))
	for i, a := range watched {
		balances[i] = balance(e.Chain, a)
	}
	e.MustRefuse(raw, want)
	balances[0] = sub(t, balances[0], fee)
	for i, a := range watched {
		if got := balance(e.Chain, a); got != balances[i] {
			t.Fatalf("refused, yet %s holds %s, want %s", a, got, balances[i])
		}
	}
	if after := e.poolsState(); !maps.Equal(before, after) {
		t.Fatal("refused, yet the pools module's state changed")
	}
}

func (e *economy) poolsState() map[string]string {
	e.T.Helper()
	out := map[string]string{}
	err := e.App.Store().Iterate([]byte{state.ModulePools}, func(k, v []byte) error {
		out[string(k)] = string(v)
		return nil
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

func hasEvent(events []abci.Event, kind string) bool { return apptest.HasEvent(events, kind) }

// TestForceStop: the queue's head waits beyond the grace period with no
// free or releasing stake to pay it, so the end of a block stops the
// pool's workers; their stake pays it after the cool-down.
func TestForceStop(t *testing.T) {
	e := newEconomy(t, func(p *poolsapi.Params) { p.WithdrawGrace = 2 * time.Hour })
	w := e.worker(2000)
	c := e.Chain
	c.MustSucceed(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(3000)}))
	c.MustSucceed(c.Tx(alice, computeapi.MethodStart, computeapi.Start{Worker: w.Pub(), Stake: pha(3000)}))
	c.MustSucceed(c.Tx(bob, poolsapi.MethodUndelegate, poolsapi.Undelegate{Pool: e.pool, Shares: pha(500)}))
	// Within the grace period nothing happens, and the end of the block
	// writes nothing of the pools'.
	c.Now = c.Now.Add(time.Hour)
	before := e.poolsState()
	if resp := c.Block(); hasEvent(resp.Events, poolsapi.EventForceStop) {
		t.Fatal("stopped within the grace period")
	}
	if !maps.Equal(before, e.poolsState()) {
		t.Fatal("a block with nothing to do for the pools changed their state")
	}
	c.Now = c.Now.Add(time.Hour)
	resp := c.Block()
	if !hasEvent(resp.Events, poolsapi.EventForceStop) || !hasEvent(resp.Events, computeapi.EventStopped) {
		t.Fatalf("no force stop: %v", resp.Events)
	}
	if sess := e.session(w); sess.State != computeapi.StateCoolingDown {
		t.Fatalf("session %+v", sess)
	}
	if info := e.checkAccount(e.pool); info.Pool.Releasing != pha(3000) {
		t.Fatalf("after the force stop %+v", info.Pool)
	}
	// The next block finds the stake releasing: nothing more to stop.
	if resp := c.Block(); hasEvent(resp.Events, poolsapi.EventForceStop) {
		t.Fatal("stopped twice")
	}
	bob0 := balance(c, bob.Addr)
	c.Now = c.Now.Add(e.params.Economy.CoolDown)
	c.Block()
	if got, want := balance(c, bob.Addr), add(t, bob0, pha(500)); got != want {
		t.Fatalf("bob after the release %s, want %s", got, want)
	}
	if info := e.checkAccount(e.pool); info.Pool.Free != pha(2500) || info.Pool.Head != info.Pool.Tail {
		t.Fatalf("after the release %+v", info.Pool)
	}
}

// TestSlashLowersSharesAtOnce: a policy change that refuses the worker's
// TCB slashes its session's stake (compute's SlashShare) and stops it; the
// pool learns the loss in the same block, every share is worth less at
// once, and the release returns the rest.
func TestSlashLowersSharesAtOnce(t *testing.T) {
	e := newEconomy(t, nil)
	w := e.worker(2000)
	c := e.Chain
	c.MustSucceed(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(1000)}))
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(3000)}))
	c.MustSucceed(c.Tx(alice, computeapi.MethodStart, computeapi.Start{Worker: w.Pub(), Stake: pha(3000)}))
	loss := tokenomics.Part(pha(3000), e.params.SlashShare)
	if loss != pha(300) {
		t.Fatalf("a tenth of 3000 PHA is %s", loss.PHAString())
	}
	treasury0 := balance(c, bankapi.Treasury)
	// The policy no longer accepts sim quotes: the worker is deactivated
	// at the next block and its session slashed.
	policy := attest.Policy{AllowSim: false}
	c.MustSucceed(c.Tx(alice, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: policy}))
	c.Block()
	sess := e.session(w)
	if sess.State != computeapi.StateCoolingDown || sess.Slashed != loss {
		t.Fatalf("session %+v, want slashed %s", sess, loss)
	}
	if got := sub(t, balance(c, bankapi.Treasury), treasury0); got.Cmp(loss) < 0 {
		t.Fatalf("treasury got %s, want at least the slash %s", got, loss)
	}
	info := e.checkAccount(e.pool)
	stake := sub(t, pha(4000), loss)
	if info.Pool.Stake != stake || info.Pool.Releasing != sub(t, pha(3000), loss) {
		t.Fatalf("after the slash %+v", info.Pool)
	}
	// Bob's 1,000 shares of 4,000 are worth a quarter of what is left.
	if p := position(t, c, e.pool, bob.Addr); p.Value != floorDiv(stake, 1, 4) {
		t.Fatalf("bob's position %+v, want value %s", p, floorDiv(stake, 1, 4))
	}
	c.Now = c.Now.Add(e.params.Economy.CoolDown)
	c.Block()
	info = e.checkAccount(e.pool)
	if info.Pool.Free != stake || !info.Pool.Locked.IsZero() || info.Pool.Stake != stake {
		t.Fatalf("after the release %+v", info.Pool)
	}
	// Bob leaves with exactly his quarter.
	bob0 := balance(c, bob.Addr)
	c.MustSucceed(c.Tx(bob, poolsapi.MethodUndelegate, poolsapi.Undelegate{Pool: e.pool, Shares: pha(1000)}))
	if got, want := balance(c, bob.Addr), sub(t, add(t, bob0, floorDiv(stake, 1, 4)), fee); got != want {
		t.Fatalf("bob left with %s, want %s", got, want)
	}
}

// TestSlashWhileCoolingDown: a discrepancy found after the owner stopped
// the worker slashes the session as it cools down; the pool's stake (and
// every share's value) drops in the same block, not at the release, which
// then returns what is left without a second loss.
func TestSlashWhileCoolingDown(t *testing.T) {
	e := newEconomy(t, nil)
	w := e.worker(2000)
	c := e.Chain
	c.MustSucceed(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(1000)}))
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: e.pool, Amount: pha(3000)}))
	c.MustSucceed(c.Tx(alice, computeapi.MethodStart, computeapi.Start{Worker: w.Pub(), Stake: pha(3000)}))
	c.MustSucceed(c.Tx(alice, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}))
	if info := e.checkAccount(e.pool); info.Pool.Releasing != pha(3000) || e.session(w).State != computeapi.StateCoolingDown {
		t.Fatalf("after the stop %+v", info.Pool)
	}

	// The contracts module reports a discrepancy in a block of its own.
	ctx := &module.Context{
		Block: module.Block{ChainID: apptest.ChainID, Height: c.Height + 1, Time: c.Now.Add(time.Second), Committed: c.App.Store()},
		Store: state.NewOverlay(c.App.Store()),
	}
	cm := compute.Module{Pools: pools.Module{}}
	loss := tokenomics.Part(pha(3000), e.params.SlashShare)
	for i := range 2 { // a second slash takes another share
		if err := cm.Discrepancy(ctx, w.Pub()); err != nil {
			t.Fatal(err)
		}
		lost := floorDiv(loss, uint64(i+1), 1)
		p, _, err := pools.GetPool(ctx.Store, e.pool)
		if err != nil {
			t.Fatal(err)
		}
		left := sub(t, pha(3000), lost)
		if p.Stake != sub(t, pha(4000), lost) || p.Locked != left || p.Releasing != left || p.Free != pha(1000) {
			t.Fatalf("after slash %d of %s: %+v", i+1, loss.PHAString(), p)
		}
		// Bob's 1,000 shares of 4,000 are worth a quarter of what is left.
		if v := tokenomics.ShareValue(pha(1000), p.Shares, p.Stake); v != floorDiv(p.Stake, 1, 4) {
			t.Fatalf("bob's shares worth %s of %s", v, p.Stake)
		}
	}

	// The cool-down ends: compute returns what is left, and the pool
	// loses nothing more.
	left := sub(t, pha(3000), floorDiv(loss, 2, 1))
	if err := (pools.Module{}).Released(ctx, uint64(e.pool), w.Pub(), left, floorDiv(loss, 2, 1)); err != nil {
		t.Fatal(err)
	}
	p, _, err := pools.GetPool(ctx.Store, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	stake := sub(t, pha(4000), floorDiv(loss, 2, 1))
	if p.Stake != stake || p.Free != stake || !p.Locked.IsZero() || !p.Releasing.IsZero() {
		t.Fatalf("after the release %+v", p)
	}
}
