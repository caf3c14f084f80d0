package compute

import (
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// RewardSink is told what compute did with a stake pool's money. The stake
// pools module implements it and the application injects it
// (Module.Pools), so compute never imports pools. Each call runs in the
// transaction or block that caused it; an error refuses that whole step.
type RewardSink interface {
	// Rewarded: a settlement paid amount, the pool's part of its
	// sessions' rewards (the treasury's part already taken), into the
	// pool's account.
	Rewarded(ctx *module.Context, pool uint64, amount token.Amount) error
	// Stopped: compute stopped one of the pool's sessions on its own
	// (compute.stop, a lapsed attestation, a revoked TCB, a slash); its
	// stake stays locked until the cool-down ends. Not called for
	// StopSession, whose caller knows.
	Stopped(ctx *module.Context, pool uint64, worker []byte, stake token.Amount) error
	// Slashed: compute slashed a session of the pool that had already
	// stopped and is cooling down (a discrepancy found after the stop):
	// amount of its stake went to the treasury and will not come back.
	// A slash that stops a session is told by Stopped instead.
	Slashed(ctx *module.Context, pool uint64, worker []byte, amount token.Amount) error
	// Released: a session's cool-down ended: returned went back to the
	// pool's account and slashed (stake − returned) to the treasury.
	Released(ctx *module.Context, pool uint64, worker []byte, returned, slashed token.Amount) error
}

// Pools is the stake pools module as compute's transactions need it.
type Pools interface {
	RewardSink
	// StakeFor is asked when sender sends compute.start for worker with
	// stake: it checks that sender may (it owns the pool the worker is
	// in) and that the pool has that much free, books it as locked, and
	// names the pool and the account compute takes the stake from.
	StakeFor(ctx *module.Context, sender address.Address, worker []byte, stake token.Amount) (pool uint64, account address.Address, err error)
	// MayStop checks that sender may stop a session of pool (its owner).
	MayStop(ctx *module.Context, sender address.Address, pool uint64, worker []byte) error
}
