// Package keys is the chain's record of the network's key hierarchy: the
// master key's public part per generation, clusters with their assigned
// workers and public keys, and contracts' public keys. The secrets never
// come here: gatekeepers (worker runtimes in gatekeeper mode) generate and
// hold the master key, derive the rest, and hand keys to each other and to
// workers sealed (HPKE) to their attested encryption keys through the
// message queue. This file holds the types both the chain and the
// enclaves use; the module's handlers are in the rest of the package.
package keys

import (
	"bytes"
	"crypto/ed25519"
	"slices"
)

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "keys"

// Transactions (admin only for now; governance later).
const (
	MethodRotate         = "keys.rotate"          // body: Rotate
	MethodCreateCluster  = "keys.create_cluster"  // body: CreateCluster
	MethodAssignWorker   = "keys.assign_worker"   // body: AssignWorker
	MethodDeriveContract = "keys.derive_contract" // body: DeriveContract
)

// Egress topics, sent by gatekeepers (mq.SignedEgress routed to this module).
const (
	// TopicMasterPublic: the gatekeeper that generated a master key
	// generation publishes its public part (payload MasterPublic).
	TopicMasterPublic = "keys.master_public"
	// TopicMasterHandout: a gatekeeper hands the master key (every
	// generation it holds) to another gatekeeper (payload Handout).
	TopicMasterHandout = "keys.master_handout"
	// TopicClusterPublic: the public key of a cluster for a generation;
	// every gatekeeper derives the same, the chain keeps the first
	// (payload ClusterPublic).
	TopicClusterPublic = "keys.cluster_public"
	// TopicClusterHandout: a gatekeeper hands a cluster key to a worker
	// assigned to the cluster (payload Handout).
	TopicClusterHandout = "keys.cluster_handout"
	// TopicContractPublic: a contract's public key (payload ContractPublic).
	TopicContractPublic = "keys.contract_public"
)

// Ingress topics the module publishes for enclaves.
const (
	// TopicRotation: a new master key generation is due (payload Rotation).
	TopicRotation = "keys.rotation"
	// TopicCluster: a cluster was created or a worker assigned to one
	// (payload ClusterEvent).
	TopicCluster = "keys.cluster"
	// TopicContract: a contract needs its public key derived (payload
	// ContractEvent).
	TopicContract = "keys.contract"
)

// Rotate is the body of MethodRotate: start the next generation.
type Rotate struct {
	_ struct{} `cbor:",toarray"`
}

// CreateCluster is the body of MethodCreateCluster.
type CreateCluster struct {
	_  struct{} `cbor:",toarray"`
	ID string   // 1..64 bytes: letters, digits, '-', '_'
}

// AssignWorker is the body of MethodAssignWorker: a registered worker joins
// a cluster (a worker is in at most one).
type AssignWorker struct {
	_       struct{} `cbor:",toarray"`
	Cluster string
	Worker  ed25519.PublicKey // the worker's identity key
}

// DeriveContract is the body of MethodDeriveContract: ask the gatekeepers
// for a contract's public key in a cluster. (The contracts module will do
// this on instantiation.)
type DeriveContract struct {
	_        struct{} `cbor:",toarray"`
	Cluster  string
	Contract []byte // the contract id, 1..64 bytes
}

// Rotation is published when a generation is due; the designated
// gatekeeper (see Designated) generates it.
type Rotation struct {
	_          struct{} `cbor:",toarray"`
	Generation uint32
}

// ClusterEvent is published on cluster creation (Worker nil) and on each
// assignment.
type ClusterEvent struct {
	_       struct{} `cbor:",toarray"`
	Cluster string
	Worker  ed25519.PublicKey // nil: the cluster was created
	// EncryptionKey is the assigned worker's attested encryption key, the
	// one its cluster key must be sealed to.
	EncryptionKey []byte
}

// ContractEvent asks for a contract's public key.
type ContractEvent struct {
	_        struct{} `cbor:",toarray"`
	Cluster  string
	Contract []byte
}

// MasterPublic is the public part (HPKE MLKEM768X25519 public key bytes)
// of one master key generation.
type MasterPublic struct {
	_          struct{} `cbor:",toarray"`
	Generation uint32
	PublicKey  []byte
}

// Handout carries a key sealed (crypto/envelope) to a recipient's attested
// encryption key. For the master key the plaintext is a canonical CBOR
// []GenerationKey; for a cluster key it is a ClusterSecret.
type Handout struct {
	_         struct{}          `cbor:",toarray"`
	Recipient ed25519.PublicKey // the recipient's identity key
	Cluster   string            // cluster handouts only
	Envelope  []byte
}

// GenerationKey is one master key generation's secret (inside a handout's
// envelope only).
type GenerationKey struct {
	_          struct{} `cbor:",toarray"`
	Generation uint32
	Secret     []byte
}

// ClusterSecret is a cluster key for one generation (inside an envelope).
type ClusterSecret struct {
	_          struct{} `cbor:",toarray"`
	Cluster    string
	Generation uint32
	Secret     []byte
}

// ClusterPublic is a cluster's public key for one generation.
type ClusterPublic struct {
	_          struct{} `cbor:",toarray"`
	Cluster    string
	Generation uint32
	PublicKey  []byte
}

// ContractPublic is a contract's public key for one generation.
type ContractPublic struct {
	_          struct{} `cbor:",toarray"`
	Cluster    string
	Contract   []byte
	Generation uint32
	PublicKey  []byte
}

// DesignationTurn is how many blocks each active gatekeeper in turn is
// the designated one for a due generation. The smallest identity key goes
// first; if the chain has recorded no public key by the end of its turn
// (it is down, or its relay is), the next key takes over, and so on round
// the set, so one silent gatekeeper cannot stall key generation.
const DesignationTurn = 100

// Designated picks, from the identity keys of the active gatekeepers, the
// one that generates a generation due since block dueSince, at block h:
// the keys in ascending order take turns of DesignationTurn blocks. Every
// node computes the same from the chain; the others receive the key by
// hand-over. Two gatekeepers may still both generate (the first turn's
// publication arriving late): the chain records the first public key, and
// the other gatekeeper drops its own and receives the recorded one.
func Designated(active []ed25519.PublicKey, dueSince, h int64) ed25519.PublicKey {
	if len(active) == 0 {
		return nil
	}
	sorted := slices.Clone(active)
	slices.SortFunc(sorted, func(a, b ed25519.PublicKey) int { return bytes.Compare(a, b) })
	turn := max(h-dueSince, 0) / DesignationTurn
	return sorted[turn%int64(len(sorted))]
}
