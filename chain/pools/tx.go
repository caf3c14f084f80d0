package pools

import (
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
)

func handleCreate(ctx *module.Context, body []byte) error {
	c, err := poolsapi.DecodeCreate(body)
	if err != nil {
		return err
	}
	id, err := nextID(ctx.Store)
	if err != nil {
		return err
	}
	if err := bank.OpenModuleAccount(ctx.Store, poolsapi.Account(id)); err != nil {
		return err
	}
	putPool(ctx.Store, poolsapi.Pool{ID: id, Owner: ctx.Sender, Commission: c.Commission, Capacity: c.Capacity})
	ctx.Emit(poolsapi.EventCreated, module.A("pool", id), module.A("owner", ctx.Sender),
		module.A("commission", c.Commission), module.A("capacity", c.Capacity))
	return nil
}

// ownedPool reads a pool the sender must own.
func ownedPool(ctx *module.Context, id poolsapi.ID) (poolsapi.Pool, error) {
	p, err := mustPool(ctx.Store, id)
	if err == nil && p.Owner != ctx.Sender {
		err = poolsapi.ErrNotOwner.Wrapf("pool %s is %s's", id, p.Owner)
	}
	return p, err
}

// handleAddWorker takes an active registered worker into the pool: only
// one its owner operates (the registry's operator field), so nobody stakes
// other people's machines, and only one in no other pool.
func handleAddWorker(ctx *module.Context, body []byte) error {
	w, err := poolsapi.DecodeWorkerBody(body)
	if err != nil {
		return err
	}
	p, err := ownedPool(ctx, w.Pool)
	if err != nil {
		return err
	}
	n, ok, err := registry.GetNode(ctx.Store, w.Worker)
	switch {
	case err != nil:
		return err
	case !ok || n.Role != registryapi.RoleWorker:
		return poolsapi.ErrUnknownWorker.Wrapf("no worker %x is registered", w.Worker)
	case !n.Active:
		return poolsapi.ErrUnknownWorker.Wrapf("worker %x is inactive: %s", w.Worker, n.Reason)
	case n.Operator != p.Owner:
		return poolsapi.ErrNotOperator.Wrapf("worker %x is operated by %s, the pool's owner is %s", w.Worker, n.Operator, p.Owner)
	}
	if m, in, err := GetWorker(ctx.Store, w.Worker); err != nil {
		return err
	} else if in {
		return poolsapi.ErrWorkerInPool.Wrapf("worker %x is in pool %s", w.Worker, m.Pool)
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	if p.Workers >= params.MaxWorkers {
		return poolsapi.ErrTooManyWorkers.Wrapf("pool %s has %d", p.ID, p.Workers)
	}
	p.Workers++
	putWorker(ctx.Store, poolsapi.PoolWorker{Pool: p.ID, Worker: w.Worker})
	putPool(ctx.Store, p)
	ctx.Emit(poolsapi.EventWorkerAdded, module.A("pool", p.ID), module.A("worker", hexKey(w.Worker)))
	return nil
}

// handleRemoveWorker lets a worker go once no stake of the pool is in its
// session (stop it and wait for the cool-down first).
func handleRemoveWorker(ctx *module.Context, body []byte) error {
	w, err := poolsapi.DecodeWorkerBody(body)
	if err != nil {
		return err
	}
	p, err := ownedPool(ctx, w.Pool)
	if err != nil {
		return err
	}
	m, err := poolWorker(ctx, p.ID, w.Worker)
	if err != nil {
		return err
	}
	if !m.Stake.IsZero() {
		return poolsapi.ErrWorkerBusy.Wrapf("worker %x has %s in a session", w.Worker, m.Stake.PHAString())
	}
	p.Workers--
	deleteWorker(ctx.Store, m)
	putPool(ctx.Store, p)
	ctx.Emit(poolsapi.EventWorkerRemoved, module.A("pool", p.ID), module.A("worker", hexKey(w.Worker)))
	return nil
}

// poolWorker reads the membership of a worker that must be in pool id.
func poolWorker(ctx *module.Context, id poolsapi.ID, worker []byte) (poolsapi.PoolWorker, error) {
	m, in, err := GetWorker(ctx.Store, worker)
	if err == nil && (!in || m.Pool != id) {
		err = poolsapi.ErrWorkerNotInPool.Wrapf("worker %x, pool %s", worker, id)
	}
	return m, err
}

func handleSetCommission(ctx *module.Context, body []byte) error {
	s, err := poolsapi.DecodeSetCommission(body)
	if err != nil {
		return err
	}
	p, err := ownedPool(ctx, s.Pool)
	if err != nil {
		return err
	}
	p.Commission = s.Commission
	putPool(ctx.Store, p)
	ctx.Emit(poolsapi.EventCommission, module.A("pool", p.ID), module.A("commission", p.Commission))
	return nil
}

// handleSetCapacity sets the cap on the pool's stake: zero lifts it, and
// a cap below the stake already there is refused (it would hold nothing
// back and mislead delegators).
func handleSetCapacity(ctx *module.Context, body []byte) error {
	s, err := poolsapi.DecodeSetCapacity(body)
	if err != nil {
		return err
	}
	p, err := ownedPool(ctx, s.Pool)
	if err != nil {
		return err
	}
	if !s.Capacity.IsZero() && s.Capacity.Cmp(p.Stake) < 0 {
		return poolsapi.ErrCapacity.Wrapf("capacity %s below the pool's stake %s", s.Capacity.PHAString(), p.Stake.PHAString())
	}
	p.Capacity = s.Capacity
	putPool(ctx.Store, p)
	ctx.Emit(poolsapi.EventCapacity, module.A("pool", p.ID), module.A("capacity", p.Capacity))
	return nil
}

// handleDelegate moves the amount into the pool's account for shares;
// fresh free stake serves the withdrawal queue first.
func handleDelegate(ctx *module.Context, body []byte) error {
	d, err := poolsapi.DecodeDelegate(body)
	if err != nil {
		return err
	}
	p, err := mustPool(ctx.Store, d.Pool)
	if err != nil {
		return err
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	if d.Amount.Cmp(params.MinDelegation) < 0 {
		return poolsapi.ErrBelowMin.Wrapf("%s, at least %s", d.Amount.PHAString(), params.MinDelegation.PHAString())
	}
	pos, _, err := getDelegation(ctx.Store, p.ID, ctx.Sender)
	if err != nil {
		return err
	}
	shares, err := delegate(&p, &pos, d.Amount)
	if err != nil {
		return err
	}
	if err := bank.Move(ctx.Store, ctx.Sender, poolsapi.Account(p.ID), d.Amount); err != nil {
		return err
	}
	putDelegation(ctx.Store, p.ID, ctx.Sender, pos)
	ctx.Emit(poolsapi.EventDelegated, module.A("pool", p.ID), module.A("delegator", ctx.Sender),
		module.A("amount", d.Amount), module.A("shares", shares))
	if err := serveQueue(ctx, &p, params); err != nil {
		return err
	}
	putPool(ctx.Store, p)
	return nil
}

// handleUndelegate queues shares for withdrawal and serves the queue at
// once: with free stake enough and nobody ahead, they are paid in this
// transaction.
func handleUndelegate(ctx *module.Context, body []byte) error {
	u, err := poolsapi.DecodeUndelegate(body)
	if err != nil {
		return err
	}
	p, err := mustPool(ctx.Store, u.Pool)
	if err != nil {
		return err
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	pos, _, err := getDelegation(ctx.Store, p.ID, ctx.Sender)
	if err != nil {
		return err
	}
	if err := enqueue(&p, &pos, u.Shares); err != nil {
		return err
	}
	putDelegation(ctx.Store, p.ID, ctx.Sender, pos)
	putEntry(ctx.Store, p.ID, p.Tail, poolsapi.QueueEntry{Delegator: ctx.Sender, Shares: u.Shares, Since: ctx.Time.UnixNano()})
	p.Tail++
	ctx.Store.Set(poolsapi.QueuedPoolKeyOf(p.ID), []byte{})
	ctx.Emit(poolsapi.EventUndelegated, module.A("pool", p.ID), module.A("delegator", ctx.Sender), module.A("shares", u.Shares))
	if err := serveQueue(ctx, &p, params); err != nil {
		return err
	}
	putPool(ctx.Store, p)
	return nil
}

// handleWithdraw pays out the sender's rewards (the owner's commission
// too, after them).
func handleWithdraw(ctx *module.Context, body []byte) error {
	w, err := poolsapi.DecodeWithdraw(body)
	if err != nil {
		return err
	}
	p, err := mustPool(ctx.Store, w.Pool)
	if err != nil {
		return err
	}
	pos, _, err := getDelegation(ctx.Store, p.ID, ctx.Sender)
	if err != nil {
		return err
	}
	paid, err := claim(&p, &pos, p.Owner == ctx.Sender, w.Amount)
	if err != nil {
		return err
	}
	if err := bank.Move(ctx.Store, poolsapi.Account(p.ID), ctx.Sender, paid); err != nil {
		return err
	}
	putDelegation(ctx.Store, p.ID, ctx.Sender, pos)
	putPool(ctx.Store, p)
	ctx.Emit(poolsapi.EventRewardsClaim, module.A("pool", p.ID), module.A("to", ctx.Sender), module.A("amount", paid))
	return nil
}

// serveQueue pays queue entries in order while free stake covers them, at
// most MaxServe a call; a head it can pay only in part is paid in part
// and stays first.
func serveQueue(ctx *module.Context, p *poolsapi.Pool, params poolsapi.Params) error {
	if p.Head == p.Tail {
		return nil
	}
	for n := uint32(0); p.Head < p.Tail && n < params.MaxServe; n++ {
		e, ok, err := getEntry(ctx.Store, p.ID, p.Head)
		if err != nil {
			return err
		}
		if !ok {
			return poolsapi.ErrCorruptState.Wrapf("pool %s: no queue entry %d", p.ID, p.Head)
		}
		pos, _, err := getDelegation(ctx.Store, p.ID, e.Delegator)
		if err != nil {
			return err
		}
		paid, served := serve(p, &pos, &e)
		if served.IsZero() {
			break
		}
		if !paid.IsZero() {
			if err := bank.Move(ctx.Store, poolsapi.Account(p.ID), e.Delegator, paid); err != nil {
				return err
			}
		}
		putDelegation(ctx.Store, p.ID, e.Delegator, pos)
		ctx.Emit(poolsapi.EventWithdrawal, module.A("pool", p.ID), module.A("delegator", e.Delegator),
			module.A("shares", served), module.A("amount", paid))
		if !e.Shares.IsZero() {
			putEntry(ctx.Store, p.ID, p.Head, e)
			break
		}
		ctx.Store.Delete(poolsapi.QueueKeyOf(p.ID, p.Head))
		p.Head++
	}
	if p.Head == p.Tail {
		ctx.Store.Delete(poolsapi.QueuedPoolKeyOf(p.ID))
	}
	return nil
}
