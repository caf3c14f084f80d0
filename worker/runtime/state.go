package runtime

import (
	"bytes"
	"crypto/ed25519"
	"slices"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/lightclient"
)

// StateVersion is the version of State this code writes and reads.
const StateVersion = 3

// State is everything the runtime knows, folded from the verified event
// stream: two runtimes fed the same blocks hold equal states except for
// their own identity (and what follows from it: registration, outbox).
type State struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Identity ed25519.PublicKey
	Role     registryapi.Role
	Light    lightclient.State
	Registry RegistryView
	// Registered: this runtime has seen itself registered and active.
	Registered bool
	Outbox     Outbox
	Counters   Counters
	// Keys are the public facts of key management (keys.go); the
	// secrets are in the sealed keystore.
	Keys KeyState
}

// RegistryView is the runtime's copy of the chain's registry, maintained
// only from verified ingress messages.
type RegistryView struct {
	_      struct{} `cbor:",toarray"`
	Policy attest.Policy
	// Grants are the allowed gatekeepers, in canonical CBOR order.
	Grants []registryapi.Grant
	// Nodes are sorted by identity key.
	Nodes []NodeView
}

// NodeView is what the runtime keeps of a registered node.
type NodeView struct {
	_             struct{} `cbor:",toarray"`
	IdentityKey   []byte
	Role          registryapi.Role
	Active        bool
	EncryptionKey []byte
	LastHeartbeat int64
}

// Outbox is the egress the chain has not yet confirmed.
type Outbox struct {
	_ struct{} `cbor:",toarray"`
	// NextSeq is the sequence number of the next message (from 1).
	NextSeq uint64
	// Pending are unconfirmed messages in sequence order.
	Pending []mq.SignedEgress
}

// Counters count ingress messages the runtime did not act on.
type Counters struct {
	_ struct{} `cbor:",toarray"`
	// UnknownTopics counts messages on topics no handler knows.
	UnknownTopics uint64
	// Malformed counts verified messages whose payload did not decode.
	Malformed uint64
}

// Hash commits to the whole state under sigctx.RuntimeState.
func (s *State) Hash() []byte {
	h := sigctx.RuntimeState.Hash(s.Light.ChainID, codec.MustMarshal(s))
	return h[:]
}

// node returns the index of key in Nodes and whether it is there.
func (v *RegistryView) node(key []byte) (int, bool) {
	return slices.BinarySearchFunc(v.Nodes, key, func(n NodeView, k []byte) int { return bytes.Compare(n.IdentityKey, k) })
}

// putNode inserts or replaces a node, keeping Nodes sorted.
func (v *RegistryView) putNode(n NodeView) {
	i, found := v.node(n.IdentityKey)
	if found {
		v.Nodes[i] = n
		return
	}
	v.Nodes = slices.Insert(v.Nodes, i, n)
}

// setGrant adds or removes a gatekeeper grant. Grants are kept sorted by
// their canonical encoding so the state hash does not depend on the order
// of events that add and remove them.
func (v *RegistryView) setGrant(g registryapi.Grant, allowed bool) {
	enc := codec.MustMarshal(g)
	i, found := slices.BinarySearchFunc(v.Grants, enc, func(x registryapi.Grant, k []byte) int {
		return bytes.Compare(codec.MustMarshal(x), k)
	})
	switch {
	case allowed && !found:
		v.Grants = slices.Insert(v.Grants, i, g)
	case !allowed && found:
		v.Grants = slices.Delete(v.Grants, i, i+1)
	}
}

// clone returns a deep copy, for readers that must not see later changes.
func (s *State) clone() (State, error) {
	var out State
	err := codec.Unmarshal(codec.MustMarshal(s), &out)
	return out, err
}
