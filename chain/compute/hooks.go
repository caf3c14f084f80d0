package compute

import (
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
)

// The application hands these to the registry and the contracts module,
// which know nothing of compute.

// NodeDeactivated stops the session of a worker the registry deactivated,
// at once: its attestation lapsed, or the policy no longer accepts its
// TCB, which also slashes it (its platform is no longer trusted).
func (m Module) NodeDeactivated(ctx *module.Context, n registryapi.Node, cause registry.Cause) error {
	if n.Role != registryapi.RoleWorker {
		return nil
	}
	sess, ok, err := CurrentSession(ctx.Store, n.IdentityKey)
	if err != nil || !ok || !sess.State.InSession() {
		return err
	}
	if cause == registry.CausePolicy {
		if _, err := Slash(ctx, n.IdentityKey, "the attestation policy no longer accepts its TCB"); err != nil {
			return err
		}
	} else if _, err := StopSession(ctx, n.IdentityKey, "deactivated: "+n.Reason); err != nil {
		return err
	}
	return m.stopped(ctx, sess)
}

// Discrepancy slashes a worker whose contract results differ from the
// cluster's settled ones, and stops its session.
func (m Module) Discrepancy(ctx *module.Context, worker []byte) error {
	sess, ok, err := CurrentSession(ctx.Store, worker)
	if err != nil || !ok {
		return err
	}
	wasIn := sess.State.InSession()
	amount, err := Slash(ctx, worker, "its contract results differ from the cluster's")
	if err != nil {
		return err
	}
	if wasIn {
		return m.stopped(ctx, sess)
	}
	// Already cooling down: the pool's stake, and so its share price,
	// must drop now, not when the rest comes back at the cool-down's end.
	if m.Pools == nil || amount.IsZero() {
		return nil
	}
	return m.Pools.Slashed(ctx, sess.Pool, worker, amount)
}

func (m Module) stopped(ctx *module.Context, sess computeapi.Session) error {
	if m.Pools == nil {
		return nil
	}
	return m.Pools.Stopped(ctx, sess.Pool, sess.Worker, sess.Stake)
}
