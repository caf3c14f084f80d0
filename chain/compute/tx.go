package compute

import (
	"time"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/tokenomics"
)

// handleStart: the pool's owner starts one of its workers with stake from
// the pool (the pools module checks and books it).
func (m Module) handleStart(ctx *module.Context, body []byte) error {
	s, err := computeapi.DecodeStart(body)
	if err != nil {
		return err
	}
	if m.Pools == nil {
		return computeapi.ErrNoPools.Wrapf("compute.start takes its stake from a stake pool")
	}
	pool, account, err := m.Pools.StakeFor(ctx, ctx.Sender, s.Worker, s.Stake)
	if err != nil {
		return err
	}
	_, err = StartSession(ctx, s.Worker, pool, account, s.Stake)
	return err
}

// handleStop: the pool's owner stops one of its workers.
func (m Module) handleStop(ctx *module.Context, body []byte) error {
	s, err := computeapi.DecodeStop(body)
	if err != nil {
		return err
	}
	sess, ok, err := CurrentSession(ctx.Store, s.Worker)
	if err != nil {
		return err
	}
	if !ok || !sess.State.InSession() {
		return computeapi.ErrNotComputing.Wrapf("%s", computeapi.Identity(s.Worker))
	}
	if m.Pools == nil {
		return computeapi.ErrNoPools.Wrapf("only a stake pool's owner stops its workers")
	}
	if err := m.Pools.MayStop(ctx, ctx.Sender, sess.Pool, s.Worker); err != nil {
		return err
	}
	if sess, err = StopSession(ctx, s.Worker, "stopped by "+ctx.Sender.String()); err != nil {
		return err
	}
	return m.Pools.Stopped(ctx, sess.Pool, sess.Worker, sess.Stake)
}

// validateNow checks p's ranges and that what p's schedule still emits
// from now on fits in the reward pool's balance.
func validateNow(ctx *module.Context, p computeapi.Params) error {
	pool, err := bank.GetAccount(ctx.Store, bankapi.RewardPool)
	if err != nil {
		return err
	}
	start, err := economyStart(ctx.Store)
	if err != nil {
		return err
	}
	var elapsed time.Duration // the economy has not started before its first session
	if start != 0 {
		elapsed = time.Duration(ctx.Time.UnixNano() - start)
	}
	// Validate wants the whole schedule within the pool: what it emitted
	// up to now (under p) plus what the pool still holds.
	emitted, err := tokenomics.Emitted(p.Economy, elapsed)
	if err != nil {
		return computeapi.ErrParams.Wrapf("%v", err)
	}
	budget, err := pool.Balance.Add(emitted)
	if err != nil {
		return computeapi.ErrParams.Wrapf("%v", err)
	}
	return p.Validate(budget)
}
