package registryapi

import (
	"github.com/phala-go/phala/chain/state"
)

// Stored items of the registry. They live in the wire form, not beside the
// handlers, because a client proving a node or the policy (chain/state
// queries with a proof) must compute the key it asks for without linking
// the handlers.
var (
	PolicyKey = state.NewKeyFormat(state.ModuleRegistry, 0x01) // → attest.Policy
	ParamsKey = state.NewKeyFormat(state.ModuleRegistry, 0x02) // → Params
	// 0x03 held the registry admin's address until governance replaced
	// it (chain/authority); never reuse it.
	NodeKey          = state.NewKeyFormat(state.ModuleRegistry, 0x04) // identity key → Node
	GrantByKey       = state.NewKeyFormat(state.ModuleRegistry, 0x05) // identity key → gatekeeper grant
	GrantByOperator  = state.NewKeyFormat(state.ModuleRegistry, 0x06) // operator → gatekeeper grant
	ExpiryKey        = state.NewKeyFormat(state.ModuleRegistry, 0x07) // expiry unix seconds ‖ identity key → nothing
	PolicyChangedKey = state.NewKeyFormat(state.ModuleRegistry, 0x08) // present while a policy change awaits its re-check
)

// NodeKeyOf is the state key of the Node registered with identity key id.
func NodeKeyOf(identity []byte) []byte { return NodeKey.Key(identity) }

// PolicyStateKey is the state key of the attestation policy.
func PolicyStateKey() []byte { return PolicyKey.Key() }
