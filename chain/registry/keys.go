package registry

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the registry, declared in registryapi so clients can
// compute the keys they ask proofs for.
var (
	policyKey        = registryapi.PolicyKey        // → attest.Policy
	paramsKey        = registryapi.ParamsKey        // → Params
	nodeKey          = registryapi.NodeKey          // identity key → Node
	grantByKey       = registryapi.GrantByKey       // identity key → gatekeeper grant
	grantByOperator  = registryapi.GrantByOperator  // operator → gatekeeper grant
	expiryKey        = registryapi.ExpiryKey        // expiry unix seconds ‖ identity key → nothing
	policyChangedKey = registryapi.PolicyChangedKey // present while a policy change awaits its re-check
)

func nodeKeyOf(identity []byte) []byte            { return registryapi.NodeKeyOf(identity) }
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
