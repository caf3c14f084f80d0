package pools

import (
	"github.com/phala-go/phala/chain/compute"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// The pool's side of computing sessions. The compute module owns sessions
// and holds their stake; it asks the pool before a session starts or
// stops (StakeFor, MayStop) and tells it what became of the pool's money
// (Rewarded, Stopped, Released): the methods of compute.Pools, which the
// application injects into compute so that compute never imports pools.

var _ compute.Pools = Module{}

// StakeFor implements compute.Pools: sender must own the pool the worker
// is in, the worker must have no stake of the pool in a session, and the
// pool must have that much free stake, which is booked as locked. compute
// then moves it from the pool's account.
func (Module) StakeFor(ctx *module.Context, sender address.Address, worker []byte, stake token.Amount) (uint64, address.Address, error) {
	m, in, err := GetWorker(ctx.Store, worker)
	if err != nil {
		return 0, address.Address{}, err
	}
	if !in {
		return 0, address.Address{}, poolsapi.ErrWorkerNotInPool.Wrapf("worker %x is in no pool: add it to one first", worker)
	}
	p, err := ownedPool(ctx, m.Pool)
	if err != nil {
		return 0, address.Address{}, err
	}
	if m.Cooling {
		return 0, address.Address{}, poolsapi.ErrWorkerBusy.Wrapf("worker %x is cooling down: its %s of pool %s come back when the cool-down ends", worker, m.Stake.PHAString(), p.ID)
	}
	if !m.Stake.IsZero() {
		return 0, address.Address{}, poolsapi.ErrWorkerBusy.Wrapf("worker %x has %s of pool %s in a session", worker, m.Stake.PHAString(), p.ID)
	}
	if err := lock(&p, stake); err != nil {
		return 0, address.Address{}, err
	}
	m.Stake, m.Cooling = stake, false
	putWorker(ctx.Store, m)
	putPool(ctx.Store, p)
	return uint64(p.ID), poolsapi.Account(p.ID), nil
}

// MayStop implements compute.Pools: only the pool's owner stops its
// workers (compute stops them on its own for lapsed attestations and
// slashing, and this module when withdrawals are overdue).
func (Module) MayStop(ctx *module.Context, sender address.Address, pool uint64, worker []byte) error {
	if _, err := ownedPool(ctx, poolsapi.ID(pool)); err != nil {
		return err
	}
	_, err := poolWorker(ctx, poolsapi.ID(pool), worker)
	return err
}

// Rewarded implements compute.RewardSink: amount is already in the pool's
// account; the commission goes to the owner, the rest to the shares.
func (Module) Rewarded(ctx *module.Context, pool uint64, amount token.Amount) error {
	p, err := mustPool(ctx.Store, poolsapi.ID(pool))
	if err != nil {
		return err
	}
	owner, delegators := reward(&p, amount)
	putPool(ctx.Store, p)
	ctx.Emit(poolsapi.EventReward, module.A("pool", p.ID), module.A("amount", amount),
		module.A("owner", owner), module.A("delegators", delegators))
	return nil
}

// Stopped implements compute.RewardSink: the session's stake is cooling
// down and counts as releasing until it comes back.
func (Module) Stopped(ctx *module.Context, pool uint64, worker []byte, _ token.Amount) error {
	p, m, err := sessionOf(ctx, pool, worker)
	if err != nil || m.Cooling {
		return err
	}
	if err := noteStopped(ctx, &p, &m); err != nil {
		return err
	}
	putPool(ctx.Store, p)
	return nil
}

// noteStopped books a stopped session's stake as releasing, after any
// slash that stopped it (takeSlash).
func noteStopped(ctx *module.Context, p *poolsapi.Pool, m *poolsapi.PoolWorker) error {
	if err := takeSlash(ctx, p, m); err != nil {
		return err
	}
	releasing(p, m.Stake)
	m.Cooling = true
	putWorker(ctx.Store, *m)
	return nil
}

// Slashed implements compute.RewardSink: a session already cooling down
// was slashed. The loss leaves the pool's stake at once (takeSlash), as a
// slash that stops a session does.
func (Module) Slashed(ctx *module.Context, pool uint64, worker []byte, _ token.Amount) error {
	p, m, err := sessionOf(ctx, pool, worker)
	if err != nil {
		return err
	}
	if err := takeSlash(ctx, &p, &m); err != nil {
		return err
	}
	putWorker(ctx.Store, m)
	putPool(ctx.Store, p)
	return nil
}

// takeSlash books what compute's session says was slashed of the stake
// the pool counts in it: every share is worth that much less at once, so
// nobody leaves at the old price while the rest wait for the cool-down,
// and the release later returns what is left without a second loss.
// Compute's session is the truth, so a slash is never counted twice.
func takeSlash(ctx *module.Context, p *poolsapi.Pool, m *poolsapi.PoolWorker) error {
	sess, ok, err := compute.CurrentSession(ctx.Store, m.Worker)
	if err != nil || !ok {
		return err
	}
	left := mustSub(sess.Stake, sess.Slashed)
	loss, err := m.Stake.Sub(left)
	if err != nil || loss.IsZero() {
		return nil
	}
	if m.Cooling {
		slashedCooling(p, loss)
	} else {
		slashed(p, loss)
	}
	m.Stake = left
	return nil
}

// Released implements compute.RewardSink: the session's cool-down ended
// and back is in the pool's account again; what the pool counted in the
// session beyond it was slashed (to the treasury), and every share is
// worth that much less. The free stake serves the withdrawal queue at
// once.
func (Module) Released(ctx *module.Context, pool uint64, worker []byte, back, slashedAmount token.Amount) error {
	p, m, err := sessionOf(ctx, pool, worker)
	if err != nil {
		return err
	}
	if back.Cmp(m.Stake) > 0 {
		return poolsapi.ErrCorruptState.Wrapf("worker %x: a session of %s of pool %s returned %s", worker, m.Stake, p.ID, back)
	}
	returned(&p, m.Stake, back, m.Cooling)
	m.Stake, m.Cooling = token.Amount{}, false
	putWorker(ctx.Store, m)
	ctx.Emit(poolsapi.EventStakeReturned, module.A("pool", p.ID), module.A("worker", hexKey(worker)),
		module.A("returned", back), module.A("slashed", slashedAmount))
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	if err := serveQueue(ctx, &p, params); err != nil {
		return err
	}
	putPool(ctx.Store, p)
	return nil
}

// sessionOf reads the pool and the membership of a worker with stake of
// that pool in a session.
func sessionOf(ctx *module.Context, pool uint64, worker []byte) (poolsapi.Pool, poolsapi.PoolWorker, error) {
	p, err := mustPool(ctx.Store, poolsapi.ID(pool))
	if err != nil {
		return p, poolsapi.PoolWorker{}, err
	}
	m, err := poolWorker(ctx, p.ID, worker)
	if err == nil && m.Stake.IsZero() {
		err = poolsapi.ErrCorruptState.Wrapf("worker %x has no stake of pool %s in a session", worker, p.ID)
	}
	return p, m, err
}

// forceStop stops every worker of the pool still computing, so that their
// stake comes free after the cool-down and pays the overdue queue.
// Compute's sessions are the truth: a worker it already stopped (a slash,
// a lapsed attestation) is only booked as releasing.
func forceStop(ctx *module.Context, p poolsapi.Pool) error {
	prefix := poolsapi.PoolWorkersKey.Key(poolsapi.IDBytes(p.ID))
	var workers [][]byte
	err := ctx.Committed.Iterate(prefix, func(k, _ []byte) error {
		workers = append(workers, append([]byte(nil), k[len(prefix):]...))
		return nil
	})
	if err != nil {
		return err
	}
	stopped := 0
	for _, w := range workers {
		m, in, err := GetWorker(ctx.Store, w)
		if err != nil {
			return err
		}
		if !in || m.Pool != p.ID || m.Stake.IsZero() || m.Cooling {
			continue
		}
		sess, ok, err := compute.CurrentSession(ctx.Store, w)
		if err != nil {
			return err
		}
		if ok && sess.State.InSession() {
			if _, err := compute.StopSession(ctx, w, "pool "+p.ID.String()+": withdrawals overdue"); err != nil {
				return err
			}
		}
		if err := noteStopped(ctx, &p, &m); err != nil {
			return err
		}
		stopped++
	}
	if stopped > 0 {
		putPool(ctx.Store, p)
		ctx.Emit(poolsapi.EventForceStop, module.A("pool", p.ID), module.A("workers", uint64(stopped)))
	}
	return nil
}
