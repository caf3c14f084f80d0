// Package authority says who may make the chain's privileged changes (the
// attestation policy, gatekeepers, clusters, master key rotation, params,
// treasury spends, upgrades): governance, acting as the Gov address when a
// proposal passes; and, on a development chain only, the unsafe dev admin
// its genesis names. A production genesis names no admin, so there every
// such change needs a proposal.
package authority

import (
	"fmt"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Gov is the sender of a passed proposal's actions. No key controls it and
// it holds nothing (deposits sit at govapi.Deposits).
var Gov = address.Module("gov")

// UnsafeDevAdmin returns the development chain's admin, if its genesis
// named one.
func UnsafeDevAdmin(r state.Reader) (address.Address, bool, error) {
	raw, err := r.Get(govapi.UnsafeDevAdminKey.Key())
	if err != nil || raw == nil {
		return address.Address{}, false, err
	}
	a, err := address.FromBytes(raw)
	if err != nil {
		return address.Address{}, false, fmt.Errorf("unsafe dev admin: %w", err)
	}
	return a, true, nil
}

// SetUnsafeDevAdmin records a development chain's admin (genesis only).
func SetUnsafeDevAdmin(s *state.Overlay, a address.Address) {
	s.Set(govapi.UnsafeDevAdminKey.Key(), a[:])
}

// Allowed reports whether sender acts with the chain's authority.
func Allowed(r state.Reader, sender address.Address) (bool, error) {
	if sender == Gov {
		return true, nil
	}
	admin, ok, err := UnsafeDevAdmin(r)
	if err != nil || !ok {
		return false, err
	}
	return sender == admin, nil
}

// Describe says who may act, for refusals: "governance" or "governance or
// the unsafe dev admin <addr>".
func Describe(r state.Reader) string {
	if admin, ok, err := UnsafeDevAdmin(r); err == nil && ok {
		return "governance or the unsafe dev admin " + admin.String()
	}
	return "governance (a proposal: phala tx gov propose)"
}
