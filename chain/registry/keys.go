package registry

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the registry.
var (
	policyKey        = state.NewKeyFormat(state.ModuleRegistry, 0x01) // → attest.Policy
	paramsKey        = state.NewKeyFormat(state.ModuleRegistry, 0x02) // → Params
	adminKey         = state.NewKeyFormat(state.ModuleRegistry, 0x03) // → admin address
	nodeKey          = state.NewKeyFormat(state.ModuleRegistry, 0x04) // identity key → Node
	grantByKey       = state.NewKeyFormat(state.ModuleRegistry, 0x05) // identity key → gatekeeper grant
	grantByOperator  = state.NewKeyFormat(state.ModuleRegistry, 0x06) // operator → gatekeeper grant
	expiryKey        = state.NewKeyFormat(state.ModuleRegistry, 0x07) // expiry unix seconds ‖ identity key → nothing
	policyChangedKey = state.NewKeyFormat(state.ModuleRegistry, 0x08) // present while a policy change awaits its re-check
)

func nodeKeyOf(identity []byte) []byte            { return nodeKey.Key(identity) }
func grantKeyOf(identity []byte) []byte           { return grantByKey.Key(identity) }
func grantOperatorKeyOf(a address.Address) []byte { return grantByOperator.Key(a[:]) }

// expiryKeyOf orders the index by time so the end of a block reads only the
// entries that are due.
func expiryKeyOf(unix int64, identity []byte) []byte {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(unix))
	return expiryKey.Key(t[:], identity)
}

func expiryOf(key []byte) (unix int64, identity []byte) {
	body := key[len(expiryKey.Prefix()):]
	return int64(binary.BigEndian.Uint64(body[:8])), body[8:]
}
