package relay

import (
	"context"
	"errors"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/relaywire"
)

// defaultAnchorLifetime is the registry's default max anchor age: a
// registration not seen by then was refused or lost, and a new one needs a
// fresh quote anyway.
var defaultAnchorLifetime = registryapi.DefaultParams().MaxAnchorAge

// registerWait bounds the wait for a registration's block.
const registerWait = 30 * time.Second

// regAttempt is the last registration the relay submitted.
type regAttempt struct {
	anchor int64 // the block its quote names
	retry  bool  // it failed in a way a fresh quote may fix at once
}

// maybeRegister registers a caught-up runtime that does not see itself
// registered, at most once per anchor lifetime: the runtime learns of its
// registration only when it verifies the block after it, so until then
// the relay keeps feeding rather than registering again.
func (r *Relay) maybeRegister(ctx context.Context, st relaywire.Status, head Head) error {
	if st.Registered {
		r.reg = nil
		r.watchOwner(ctx, st)
		return nil
	}
	if r.cfg.ManualRegistration {
		return nil // the operator registers it
	}
	if st.Height == 0 {
		return nil // the quote names a verified block: feed one first
	}
	if head.Height-st.Height >= r.cfg.AnchorLifetime/2 {
		return nil // a quote anchored this far back would be stale on arrival
	}
	if a := r.reg; a != nil && !a.retry && head.Height <= a.anchor+r.cfg.AnchorLifetime {
		return nil
	}
	return r.register(ctx)
}

// register asks the runtime for evidence bound to the operator, adds the
// collateral and submits it, waiting for its block.
func (r *Relay) register(ctx context.Context) error {
	ev, err := r.cfg.Runtime.Evidence(ctx, r.operator)
	if err != nil {
		return err
	}
	body := Registration(ev, r.cfg.Collateral)
	r.reg = &regAttempt{anchor: ev.AnchorHeight}
	r.log.Info("registering the runtime", "identity", hexKey(ev.IdentityKey), "role", body.Role, "anchor", ev.AnchorHeight, "operator", r.operator)
	err = r.submitRegistration(ctx, body)
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, registryapi.ErrStaleAnchor):
		outcome, r.reg.retry = "stale_anchor", true
	case errors.Is(err, registryapi.ErrIdentityInUse):
		// Someone else registered these keys: say who, loudly.
		outcome = "identity_in_use"
		r.checkOwner(ctx, ev.IdentityKey)
	case !coded(err):
		// The node did not answer, or the block was not seen in time: the
		// chain may not have it, so the next round asks again.
		outcome, r.reg.retry = "unanswered", true
	default:
		outcome = "failed"
	}
	r.metrics.registrations.WithLabelValues(outcome).Inc()
	return err
}

// Registration is the registry.register body for a runtime's evidence: the
// runtime attests its keys, the host adds the Intel collateral it fetched.
// The relay and `phala tx register-worker` both build it here, from evidence
// only the runtime can give.
func Registration(ev relaywire.Evidence, coll attest.Collateral) registryapi.Register {
	return registryapi.Register{
		Role: registryapi.Role(ev.Role), IdentityKey: ev.IdentityKey, EncryptionKey: ev.EncryptionKey,
		AnchorHeight: ev.AnchorHeight, Quote: ev.Quote, Collateral: coll,
	}
}

// coded reports whether err is a refusal with a module and code, as opposed
// to a transport failure.
func coded(err error) bool {
	var e *errs.Error
	return errors.As(err, &e)
}

func (r *Relay) submitRegistration(ctx context.Context, body registryapi.Register) error {
	hash, err := r.send(ctx, registryapi.MethodRegister, body, registryapi.RegisterGas)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, registerWait)
	defer cancel()
	inc, err := r.cfg.Chain.WaitTx(wctx, hash)
	if err != nil {
		r.nonce = nil // the transaction may never land: ask the chain next time
		return err
	}
	if err := inc.Err(); err != nil {
		r.nonce = nil // a transaction refused in its block keeps its nonce free
		return err
	}
	r.log.Info("runtime registered", "identity", hexKey(body.IdentityKey), "height", inc.Height)
	return nil
}
