package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"time"

	"github.com/phala-go/phala/relaywire"
)

// ownerRecheck is how often a relay whose runtime is registered reads the
// registration again: a registration by someone else is worth an error
// line every minute until an operator acts, and no more queries than that.
const ownerRecheck = time.Minute

// ownerCheck is the last check of who registered the runtime.
type ownerCheck struct {
	identity ed25519.PublicKey
	at       time.Time
}

// watchOwner checks, at most once per ownerRecheck, that a runtime seen
// registered is registered under this relay's operator. Anyone who got
// evidence for another operator could have registered it first, locking
// the operator out (the registry refuses a second operator for one
// identity); the relay cannot undo that, but it must say so loudly.
func (r *Relay) watchOwner(ctx context.Context, st relaywire.Status) {
	if c := r.owner; c != nil && bytes.Equal(c.identity, st.IdentityKey) && time.Since(c.at) < ownerRecheck {
		return
	}
	r.owner = &ownerCheck{identity: st.IdentityKey, at: time.Now()}
	r.checkOwner(ctx, st.IdentityKey)
}

// checkOwner reads the registration of identity and reports a foreign
// operator at error level and in the foreign-operator metric.
func (r *Relay) checkOwner(ctx context.Context, identity ed25519.PublicKey) {
	n, err := r.cfg.Chain.Node(ctx, identity)
	if err != nil {
		r.log.Warn("cannot read the runtime's registration", "identity", hexKey(identity), "err", err)
		return
	}
	if n.Operator == r.operator {
		r.metrics.foreignOperator.Set(0)
		return
	}
	if r.cfg.ManualRegistration {
		// The operator registers by hand and may pay the relay's
		// transactions from another account: worth a line, not an alarm.
		r.log.Warn("the runtime is registered under another operator than the relay's key (expected only if you registered it with another key)",
			"identity", hexKey(identity), "registered_operator", n.Operator, "relay_key", r.operator)
		return
	}
	r.metrics.foreignOperator.Set(1)
	r.log.Error("RUNTIME REGISTERED UNDER ANOTHER OPERATOR: someone else registered this runtime's identity; "+
		"this relay's operator cannot register it and does not control it. Check who can reach the runtime's relay API and its token",
		"identity", hexKey(identity), "registered_operator", n.Operator, "our_operator", r.operator)
}
