// Package keys is the chain's record of the network's key hierarchy: the
// master key's public part per generation, clusters with their assigned
// workers and public keys, and contracts' public keys. The secrets never
// come here: gatekeepers (worker runtimes in gatekeeper mode) generate and
// hold the master key, derive the rest, and hand keys to each other and to
// workers sealed (HPKE) to their attested encryption keys through the
// message queue. This file holds the types both the chain and the
// enclaves use; the module's handlers are in the rest of the package.
// Package keysapi is the keys module's wire form: transaction bodies, events
// and topics for enclaves, egress payloads and their strict decoders, query
// names and answers, error kinds, gas, and the designation rule every
// gatekeeper applies alike. Clients and enclaves import it; the handlers live
// in chain/keys.
package keysapi

import (
	"bytes"
	"crypto/ed25519"
	"slices"

	"github.com/phala-go/phala/errs"
)

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "keys"

// Transactions: Authority methods (chain/authority: governance, or a
// development chain's unsafe dev admin).
const (
	MethodRotate        = "keys.rotate"         // body: Rotate
	MethodCreateCluster = "keys.create_cluster" // body: CreateCluster
	MethodAssignWorker  = "keys.assign_worker"  // body: AssignWorker
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
	// TopicMasterRecorded: the chain recorded a master key generation's
	// public key (payload MasterRecorded). Enclaves read the fact here
	// instead of re-applying the module's acceptance rules to the
	// republished egress.
	TopicMasterRecorded = "keys.master_recorded"
	// TopicClusterRecorded: the chain recorded a cluster's public key for
	// a generation (payload ClusterPublic, as recorded).
	TopicClusterRecorded = "keys.cluster_recorded"
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

// ContractEvent asks for a contract's public key: the contracts module
// publishes it when it instantiates a contract (chain/keys
// RequestContractKey).
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

// MasterRecorded is the fact the chain publishes when it records a master
// key generation's public key: which key, and the gatekeeper whose
// message it came from (it holds the secret: nobody hands it back to it).
type MasterRecorded struct {
	_          struct{} `cbor:",toarray"`
	Generation uint32
	PublicKey  []byte
	Sender     ed25519.PublicKey
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

// Stable error kinds: codes only ever get added.
var (
	ErrInvalid         = errs.Register(Name, 1, "invalid keys message")
	ErrUnauthorized    = errs.Register(Name, 2, "only the chain's authority may do this")
	ErrUnknownCluster  = errs.Register(Name, 3, "no such cluster")
	ErrClusterExists   = errs.Register(Name, 4, "cluster already exists")
	ErrNotWorker       = errs.Register(Name, 5, "not an active registered worker")
	ErrAssigned        = errs.Register(Name, 6, "worker already assigned to a cluster")
	ErrRotationPending = errs.Register(Name, 7, "a master key generation is still pending")
	ErrGeneration      = errs.Register(Name, 8, "wrong master key generation")
	ErrConflict        = errs.Register(Name, 9, "a different public key is already recorded")
	ErrBadPublicKey    = errs.Register(Name, 10, "not an MLKEM768X25519 public key")
	ErrRecipient       = errs.Register(Name, 11, "recipient may not receive this key")
	ErrEnvelope        = errs.Register(Name, 12, "unusable envelope")
	ErrNotGatekeeper   = errs.Register(Name, 13, "only active gatekeepers send key messages")
	ErrUnknownContract = errs.Register(Name, 14, "no derivation was requested for this contract")
	ErrCorruptState    = errs.Register(Name, 15, "corrupt keys state")
)

// AdminGas is the execution cost of each authority transaction: a few reads
// and writes, no cryptography.
const AdminGas = 10_000

// Query paths.
const (
	QueryMaster   = "keys/master"   // → MasterInfo
	QueryClusters = "keys/clusters" // → []ClusterInfo
	QueryCluster  = "keys/cluster"  // data: cluster id → ClusterInfo
	QueryContract = "keys/contract" // data: CBOR ContractQuery → []ContractPublic
	QueryHandouts = "keys/handouts" // data: identity key → Handouts
)

// MasterInfo answers QueryMaster.
type MasterInfo struct {
	_       struct{}       `cbor:",toarray"`
	Publics []MasterPublic // by generation
	Newest  uint32         // 0: none recorded yet
	Pending uint32         // 0: none
}

// ContractQuery is the data of QueryContract.
type ContractQuery struct {
	_        struct{} `cbor:",toarray"`
	Cluster  string
	Contract []byte
}

// Handouts answers QueryHandouts: what the chain carried to one node (zero
// records: nothing).
type Handouts struct {
	_       struct{} `cbor:",toarray"`
	Master  HandoutRecord
	Cluster HandoutRecord
}

// MasterStatus is where the master key's generations stand.
type MasterStatus struct {
	_ struct{} `cbor:",toarray"`
	// Newest is the newest generation whose public key is recorded (0:
	// none yet).
	Newest uint32
	// Pending is the generation asked for and not yet recorded (0: none).
	Pending uint32
}

// ClusterInfo is a cluster as the chain knows it.
type ClusterInfo struct {
	_       struct{} `cbor:",toarray"`
	ID      string
	Workers []ed25519.PublicKey // identity keys, in assignment order
	Publics []ClusterPublic     // by generation, as recorded
}

// ContractInfo is a contract whose key derivation was requested.
type ContractInfo struct {
	_        struct{} `cbor:",toarray"`
	Cluster  string
	Contract []byte
	Publics  []ContractPublic // by generation, as recorded
}

// HandoutRecord says what the chain carried to one recipient: the envelope
// is opaque to it, so it records when and against which generation.
type HandoutRecord struct {
	_       struct{} `cbor:",toarray"`
	Cluster string   // cluster handouts only
	// Generation is the newest recorded master generation when the newest
	// handout was accepted.
	Generation uint32
	Height     int64  // block of the newest handout
	Count      uint64 // handouts accepted so far
}
