package registry

import (
	"errors"
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
)

// EndBlock deactivates nodes whose attestation expired and, after a policy
// change, every node the new policy refuses. It writes nothing when nothing
// is due, so empty blocks keep the app hash.
func (m Module) EndBlock(ctx *module.Context) error {
	if err := m.expire(ctx); err != nil {
		return err
	}
	return m.recheckPolicy(ctx)
}

// deactivated tells the wired observer.
func (m Module) deactivated(ctx *module.Context, n registryapi.Node, reason string, cause Cause) error {
	n = deactivate(ctx, n, reason)
	if m.Deactivated == nil {
		return nil
	}
	return m.Deactivated(ctx, n, cause)
}

// expire reads the time-ordered index only up to the block's time.
func (m Module) expire(ctx *module.Context) error {
	now := ctx.Time.Unix()
	var due [][]byte
	err := ctx.Committed.Iterate(expiryKey.Prefix(), func(k, _ []byte) error {
		at, _ := expiryOf(k)
		if at > now {
			return errStop
		}
		due = append(due, append([]byte{}, k...))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	for _, k := range due {
		if err := m.expireOne(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (m Module) expireOne(ctx *module.Context, indexKey []byte) error {
	at, id := expiryOf(indexKey)
	n, ok, err := getNode(ctx.Store, id)
	if err != nil {
		return err
	}
	// The entry may be stale: the node re-attested in this block.
	if !ok || !n.Active || n.ExpiresAt != at {
		ctx.Store.Delete(indexKey)
		return nil
	}
	return m.deactivated(ctx, n, fmt.Sprintf("attestation expired at %d: re-attest within the period", at), CauseExpired)
}

func (m Module) recheckPolicy(ctx *module.Context) error {
	flag, err := ctx.Store.Get(policyChangedKey.Key())
	if err != nil || flag == nil {
		return err
	}
	ctx.Store.Delete(policyChangedKey.Key())
	policy, err := GetPolicy(ctx.Store)
	if err != nil {
		return err
	}
	return forEachNode(ctx, func(n registryapi.Node) error {
		if !n.Active {
			return nil
		}
		if err := policy.Check(n.Attestation, ctx.Time); err != nil {
			return m.deactivated(ctx, n, "no longer passes the attestation policy: "+err.Error(), CausePolicy)
		}
		return nil
	})
}
