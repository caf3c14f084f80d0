package pools_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

var (
	alice, bob, carol = apptest.Alice, apptest.Bob, apptest.Carol
	fee               = token.PHA(1) // what apptest's transactions pay
)

func pha(n uint64) token.Amount { return token.PHA(n) }

func newChain(t *testing.T, opts ...apptest.Option) *apptest.Chain {
	c := apptest.New(t, opts...)
	c.Block() // an anchor for registrations
	return c
}

func withParams(edit func(*poolsapi.Params)) apptest.Option {
	return apptest.WithGenesis(func(g *app.Genesis) {
		gen := poolsapi.DefaultGenesis()
		edit(&gen.Params)
		g.Modules[poolsapi.Name] = mustJSON(gen)
	})
}

func create(t *testing.T, c *apptest.Chain, owner apptest.Account, commission tokenomics.Permill) poolsapi.ID {
	t.Helper()
	c.MustSucceed(c.Tx(owner, poolsapi.MethodCreate, poolsapi.Create{Commission: commission}))
	var list poolsapi.PoolList
	if err := c.Query(poolsapi.QueryPools, nil, &list); err != nil {
		t.Fatal(err)
	}
	return list.Pools[len(list.Pools)-1].Pool.ID
}

func pool(t *testing.T, c *apptest.Chain, id poolsapi.ID) poolsapi.PoolInfo {
	t.Helper()
	var info poolsapi.PoolInfo
	if err := c.Query(poolsapi.QueryPool, codec.MustMarshal(id), &info); err != nil {
		t.Fatal(err)
	}
	return info
}

func position(t *testing.T, c *apptest.Chain, id poolsapi.ID, who address.Address) poolsapi.Position {
	t.Helper()
	var p poolsapi.Position
	if err := c.Query(poolsapi.QueryPosition, codec.MustMarshal(poolsapi.PositionQuery{Pool: id, Delegator: who}), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func balance(c *apptest.Chain, a address.Address) token.Amount { return c.Account(a).Balance }

func sub(t *testing.T, a token.Amount, bs ...token.Amount) token.Amount {
	t.Helper()
	for _, b := range bs {
		var err error
		if a, err = a.Sub(b); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func add(t *testing.T, a token.Amount, bs ...token.Amount) token.Amount {
	t.Helper()
	for _, b := range bs {
		var err error
		if a, err = a.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestCreatePool(t *testing.T) {
	c := newChain(t)
	id := create(t, c, alice, 125_000)
	info := pool(t, c, id)
	if id != 1 || info.Pool.Owner != alice.Addr || info.Pool.Commission != 125_000 || info.Account != poolsapi.Account(1) || !info.Balance.IsZero() {
		t.Fatalf("pool %+v", info)
	}
	if got := info.Pool.Commission.String(); got != "12.5%" {
		t.Fatalf("commission prints %q", got)
	}
	if id2 := create(t, c, bob, 0); id2 != 2 {
		t.Fatalf("second pool %d", id2)
	}
	if err := c.Query(poolsapi.QueryPool, codec.MustMarshal(poolsapi.ID(3)), &info); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("unknown pool: %v", err)
	}
}

// TestAddWorker: only a registered, active worker the owner operates, in
// no other pool, within the pool's limit; every refusal changes nothing but
// the fee.
func TestAddWorker(t *testing.T) {
	c := newChain(t, withParams(func(p *poolsapi.Params) { p.MaxWorkers = 1 }))
	a := create(t, c, alice, 0)
	b := create(t, c, bob, 0)
	mine := c.Register(alice, registryapi.RoleWorker)
	bobs := c.Register(bob, registryapi.RoleWorker)
	other := c.Register(alice, registryapi.RoleWorker)
	add := func(from apptest.Account, id poolsapi.ID, w []byte) []byte {
		return c.Tx(from, poolsapi.MethodAddWorker, poolsapi.WorkerBody{Pool: id, Worker: w})
	}
	refusals := []struct {
		name string
		tx   func() []byte
		want error
	}{
		{"another operator's worker", func() []byte { return add(alice, a, bobs.Pub()) }, poolsapi.ErrNotOperator},
		{"into another's pool", func() []byte { return add(alice, b, mine.Pub()) }, poolsapi.ErrNotOwner},
		{"the owner's worker into a pool of another operator", func() []byte { return add(bob, b, mine.Pub()) }, poolsapi.ErrNotOperator},
		{"an unregistered key", func() []byte { return add(alice, a, apptest.NewTEENode(t).Pub()) }, poolsapi.ErrUnknownWorker},
		{"an unknown pool", func() []byte { return add(alice, 9, mine.Pub()) }, poolsapi.ErrUnknownPool},
		{"pool zero", func() []byte { return add(alice, 0, mine.Pub()) }, poolsapi.ErrInvalid},
		{"a short key", func() []byte { return add(alice, a, mine.Pub()[:31]) }, poolsapi.ErrInvalid},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) { c.MustRefuseCharged(r.tx(), r.want) })
	}
	c.MustSucceed(add(alice, a, mine.Pub()))
	c.MustRefuseCharged(add(alice, a, mine.Pub()), poolsapi.ErrWorkerInPool)
	c.MustRefuseCharged(add(alice, a, other.Pub()), poolsapi.ErrTooManyWorkers)
	info := pool(t, c, a)
	if info.Pool.Workers != 1 || len(info.Workers) != 1 || string(info.Workers[0]) != string(mine.Pub()) {
		t.Fatalf("pool %+v", info)
	}
	var m poolsapi.PoolWorker
	if err := c.Query(poolsapi.QueryWorkerPool, mine.Pub(), &m); err != nil || m.Pool != a {
		t.Fatalf("worker's pool %+v %v", m, err)
	}
}

func TestRemoveWorker(t *testing.T) {
	c := newChain(t)
	a := create(t, c, alice, 0)
	w := c.Register(alice, registryapi.RoleWorker)
	body := poolsapi.WorkerBody{Pool: a, Worker: w.Pub()}
	c.MustRefuseCharged(c.Tx(alice, poolsapi.MethodRemoveWorker, body), poolsapi.ErrWorkerNotInPool)
	c.MustSucceed(c.Tx(alice, poolsapi.MethodAddWorker, body))
	c.MustRefuseCharged(c.Tx(bob, poolsapi.MethodRemoveWorker, body), poolsapi.ErrNotOwner)
	c.MustSucceed(c.Tx(alice, poolsapi.MethodRemoveWorker, body))
	if info := pool(t, c, a); info.Pool.Workers != 0 || len(info.Workers) != 0 {
		t.Fatalf("after removal %+v", info)
	}
	var m poolsapi.PoolWorker
	if err := c.Query(poolsapi.QueryWorkerPool, w.Pub(), &m); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("removed worker's pool: %v", err)
	}
	// Removed, it may join a pool again.
	c.MustSucceed(c.Tx(alice, poolsapi.MethodAddWorker, body))
}

func TestCommissionAndCapacity(t *testing.T) {
	c := newChain(t)
	a := create(t, c, alice, 0)
	c.MustRefuseCharged(c.Tx(alice, poolsapi.MethodCreate, poolsapi.Create{Commission: tokenomics.Million + 1}), poolsapi.ErrCommission)
	c.MustRefuseCharged(c.Tx(alice, poolsapi.MethodSetCommission, poolsapi.SetCommission{Pool: a, Commission: tokenomics.Million + 1}), poolsapi.ErrCommission)
	c.MustRefuseCharged(c.Tx(bob, poolsapi.MethodSetCommission, poolsapi.SetCommission{Pool: a, Commission: 1}), poolsapi.ErrNotOwner)
	c.MustSucceed(c.Tx(alice, poolsapi.MethodSetCommission, poolsapi.SetCommission{Pool: a, Commission: tokenomics.Million}))
	if got := pool(t, c, a).Pool.Commission; got != tokenomics.Million {
		t.Fatalf("commission %s", got)
	}
	c.MustSucceed(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(100)}))
	c.MustRefuseCharged(c.Tx(alice, poolsapi.MethodSetCapacity, poolsapi.SetCapacity{Pool: a, Capacity: pha(99)}), poolsapi.ErrCapacity)
	c.MustRefuseCharged(c.Tx(bob, poolsapi.MethodSetCapacity, poolsapi.SetCapacity{Pool: a, Capacity: pha(200)}), poolsapi.ErrNotOwner)
	c.MustSucceed(c.Tx(alice, poolsapi.MethodSetCapacity, poolsapi.SetCapacity{Pool: a, Capacity: pha(150)}))
	c.MustRefuseCharged(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(51)}), poolsapi.ErrCapacity)
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(50)}))
	c.MustSucceed(c.Tx(alice, poolsapi.MethodSetCapacity, poolsapi.SetCapacity{Pool: a})) // lifted
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(1000)}))
}

// TestDelegateAndUndelegate: shares for PHA one for one in a fresh pool;
// undelegating with free stake pays at once, to the base unit; withdrawals
// beyond the shares, below the minimum or of rewards never earned are
// refused with nothing changed but the fee.
func TestDelegateAndUndelegate(t *testing.T) {
	c := newChain(t)
	a := create(t, c, alice, 100_000)
	bob0, carol0 := balance(c, bob.Addr), balance(c, carol.Addr)
	c.MustSucceed(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(1000)}))
	c.MustSucceed(c.Tx(carol, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(3000)}))
	if got, want := balance(c, bob.Addr), sub(t, bob0, fee, pha(1000)); got != want {
		t.Fatalf("bob %s, want %s", got, want)
	}
	if p := position(t, c, a, bob.Addr); p.Shares != pha(1000) || p.Value != pha(1000) || !p.Rewards.IsZero() {
		t.Fatalf("bob's position %+v", p)
	}
	info := pool(t, c, a)
	if info.Balance != pha(4000) || info.Pool.Free != pha(4000) || info.Pool.Stake != pha(4000) || info.Pool.Shares != pha(4000) {
		t.Fatalf("pool %+v", info)
	}

	und := func(from apptest.Account, shares token.Amount) []byte {
		return c.Tx(from, poolsapi.MethodUndelegate, poolsapi.Undelegate{Pool: a, Shares: shares})
	}
	c.MustRefuseCharged(und(bob, add(t, pha(1000), token.FromUint64(1))), poolsapi.ErrBeyondShares)
	c.MustRefuseCharged(und(alice, pha(1)), poolsapi.ErrBeyondShares)
	c.MustRefuseCharged(und(bob, token.Amount{}), poolsapi.ErrInvalid)
	c.MustRefuseCharged(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: token.FromUint64(1)}), poolsapi.ErrBelowMin)
	c.MustRefuseCharged(c.Tx(bob, poolsapi.MethodWithdraw, poolsapi.Withdraw{Pool: a}), poolsapi.ErrBeyondRewards)
	c.MustRefuseCharged(c.Tx(bob, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: a, Amount: pha(2_000_000_000)}), bankapi.ErrInsufficientFunds)

	before := balance(c, bob.Addr)
	c.MustSucceed(und(bob, pha(400)))
	if got, want := balance(c, bob.Addr), sub(t, add(t, before, pha(400)), fee); got != want {
		t.Fatalf("bob after undelegating %s, want %s", got, want)
	}
	if p := position(t, c, a, bob.Addr); p.Shares != pha(600) || !p.Queued.IsZero() {
		t.Fatalf("bob's position %+v", p)
	}
	c.MustSucceed(und(carol, pha(3000)))
	if got, want := balance(c, carol.Addr), sub(t, carol0, fee, fee); got != want {
		t.Fatalf("carol after leaving %s, want %s", got, want)
	}
	var all []poolsapi.Position
	if err := c.Query(poolsapi.QueryPositions, carol.Addr[:], &all); err != nil || len(all) != 0 {
		t.Fatalf("carol's positions after leaving: %+v %v", all, err)
	}
	if err := c.Query(poolsapi.QueryPositions, bob.Addr[:], &all); err != nil || len(all) != 1 || all[0].Shares != pha(600) {
		t.Fatalf("bob's positions: %+v %v", all, err)
	}
	if info := pool(t, c, a); info.Balance != pha(600) || info.Pool.Shares != pha(600) || info.Pool.Head != info.Pool.Tail {
		t.Fatalf("pool after %+v", info)
	}
}

func TestGenesisParams(t *testing.T) {
	bad := map[string]func(*poolsapi.Params){
		"no workers":      func(p *poolsapi.Params) { p.MaxWorkers = 0 },
		"no minimum":      func(p *poolsapi.Params) { p.MinDelegation = token.Amount{} },
		"a second grace":  func(p *poolsapi.Params) { p.WithdrawGrace = 1 },
		"no queue served": func(p *poolsapi.Params) { p.MaxServe = 0 },
	}
	for name, edit := range bad {
		t.Run(name, func(t *testing.T) {
			p := poolsapi.DefaultParams()
			edit(&p)
			if err := p.Validate(); !errors.Is(err, poolsapi.ErrParams) {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	var got poolsapi.Params
	c := newChain(t)
	if err := c.Query(poolsapi.QueryParams, nil, &got); err != nil || got != poolsapi.DefaultParams() {
		t.Fatalf("params %+v %v", got, err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
