// Package registryapi is the registry module's wire form: roles, nodes,
// transaction bodies, events and topics for enclaves, query names and
// answers, error kinds and gas. Clients, relays and enclaves import it; the
// handlers live in chain/registry.
package registryapi

import (
	"crypto/ed25519"
	"fmt"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
)

// Role is what a registered TEE node does.
type Role uint8

// Roles.
const (
	RoleWorker     Role = 1
	RoleGatekeeper Role = 2
)

func (r Role) String() string {
	switch r {
	case RoleWorker:
		return "worker"
	case RoleGatekeeper:
		return "gatekeeper"
	}
	return "unknown"
}

// Node is a registered TEE node.
type Node struct {
	_             struct{} `cbor:",toarray"`
	Role          Role
	IdentityKey   []byte // ed25519 public key: signs the node's egress
	EncryptionKey []byte // HPKE (MLKEM768X25519) public key: keys are sealed to it
	Operator      address.Address
	Attestation   attest.Verified // what the quote proved, re-checked on policy changes
	AttestedAt    int64           // block time (unix seconds) of the last attestation
	AttestedBlock int64
	ExpiresAt     int64 // must re-attest before this block time
	Active        bool
	Reason        string // why the node is inactive
	// LastHeartbeat is the block height named by the node's newest
	// heartbeat egress (0: none yet).
	LastHeartbeat int64
}

// Params are the registry's rules.
type Params struct {
	_ struct{} `cbor:",toarray"`
	// ReattestSeconds is how long an attestation lasts.
	ReattestSeconds int64 `json:"reattest_seconds"`
	// MaxAnchorAge is how many blocks old the block a quote's report data
	// names may be.
	MaxAnchorAge int64 `json:"max_anchor_age"`
}

// DefaultParams: re-attest weekly, quotes made within the last 100 blocks.
func DefaultParams() Params { return Params{ReattestSeconds: 7 * 24 * 3600, MaxAnchorAge: 100} }

// Ranges of the params. A node re-attests at most every ten minutes
// (re-attesting takes a quote, its collateral and a block) and at least
// every thousand years (a block time plus the period stays far inside
// int64; how long is wise is governance's choice: a test chain may never
// want it); a quote may name a block at most as far back
// as the chain keeps block hashes (chain/store.RecentBlocks, which a
// registry test holds this to: this package may not link the store).
const (
	MinReattestSeconds = 10 * 60
	MaxReattestSeconds = 1000 * 365 * 24 * 3600
	MaxMaxAnchorAge    = 1000
)

// Validate checks params against their ranges.
func (p Params) Validate() error {
	switch {
	case p.ReattestSeconds < MinReattestSeconds || p.ReattestSeconds > MaxReattestSeconds:
		return ErrParams.Wrapf("reattest_seconds must be in [%d, %d], not %d", MinReattestSeconds, MaxReattestSeconds, p.ReattestSeconds)
	case p.MaxAnchorAge < 1 || p.MaxAnchorAge > MaxMaxAnchorAge:
		return ErrParams.Wrapf("max_anchor_age must be in [1, %d] blocks, not %d", MaxMaxAnchorAge, p.MaxAnchorAge)
	}
	return nil
}

// Register is the body of "registry.register": an operator account submits
// a node's keys with the evidence that a genuine enclave holds them.
type Register struct {
	_             struct{} `cbor:",toarray"`
	Role          Role
	IdentityKey   []byte
	EncryptionKey []byte
	AnchorHeight  int64 // the recent block whose hash the report data binds
	Quote         []byte
	Collateral    attest.Collateral
}

// Grant names a gatekeeper by identity key or by operator (one of them).
type Grant struct {
	_           struct{}        `cbor:",toarray"`
	IdentityKey []byte          `json:"identity_key,omitempty"`
	Operator    address.Address `json:"operator,omitzero"`
}

// SetGatekeeper is the body of "registry.set_gatekeeper" (the chain's
// authority only: chain/authority).
type SetGatekeeper struct {
	_       struct{} `cbor:",toarray"`
	Grant   Grant
	Allowed bool
}

// SetPolicy is the body of "registry.set_policy" (the chain's authority
// only).
type SetPolicy struct {
	_      struct{} `cbor:",toarray"`
	Policy attest.Policy
}

// NodeEvent is published on the message queue for enclaves (topic
// TopicNode) on every change of a node.
type NodeEvent struct {
	_      struct{} `cbor:",toarray"`
	Kind   string   // "registered", "deactivated"
	Node   Node
	Quote  []byte            // the evidence, so gatekeepers can re-verify it
	Proof  attest.Collateral // inside their own enclaves
	Reason string
}

// PolicyEvent is published (topic TopicPolicy) when the policy changes.
type PolicyEvent struct {
	_      struct{} `cbor:",toarray"`
	Policy attest.Policy
}

// GatekeeperEvent is published (topic TopicGatekeeper) when the set of
// allowed gatekeepers changes.
type GatekeeperEvent struct {
	_       struct{} `cbor:",toarray"`
	Grant   Grant
	Allowed bool
}

// Method, query and topic names.
const (
	MethodRegister      = "registry.register"
	MethodSetGatekeeper = "registry.set_gatekeeper"
	MethodSetPolicy     = "registry.set_policy"
	// MethodSetParams changes governable params (body
	// module.ParamChange; the chain's authority only).
	MethodSetParams = "registry.set_params"

	QueryNodes       = "registry/nodes"       // data: empty, or one role byte
	QueryNode        = "registry/node"        // data: identity key
	QueryGatekeepers = "registry/gatekeepers" // grants and active gatekeepers
	QueryPolicy      = "registry/policy"
	QueryParams      = "registry/params" // → Params

	// EventParams: set_params changed the params (attribute "changed").
	EventParams = "registry_params"

	TopicNode       = "registry.node"
	TopicPolicy     = "registry.policy"
	TopicGatekeeper = "registry.gatekeeper"

	// TopicHeartbeat is an egress topic: a registered node says it is alive
	// and following the chain (payload: Heartbeat).
	TopicHeartbeat = "registry.heartbeat"
)

// Heartbeat is the payload of a TopicHeartbeat egress message.
type Heartbeat struct {
	_ struct{} `cbor:",toarray"`
	// Height is the block whose processing made the runtime send it.
	Height int64
	// Answers are a computing worker's answers to the heartbeat
	// challenges it owes (the compute module checks and records them);
	// a challenged worker sends a heartbeat at once rather than waiting
	// for the next periodic one.
	Answers []computeapi.Answer `json:"answers,omitempty"`
}

// GatekeepersInfo answers QueryGatekeepers.
type GatekeepersInfo struct {
	_      struct{} `cbor:",toarray"`
	Grants []Grant
	Active []Node
}

// Name is the module's name.
const Name = "registry"

// Stable error kinds.
var (
	ErrInvalid         = errs.Register(Name, 1, "invalid registration")
	ErrAttestation     = errs.Register(Name, 2, "attestation refused")
	ErrStaleAnchor     = errs.Register(Name, 3, "report data names an unknown or too old block")
	ErrReportData      = errs.Register(Name, 4, "quote does not bind these keys")
	ErrNotGatekeeper   = errs.Register(Name, 5, "not allowed to be a gatekeeper")
	ErrUnauthorized    = errs.Register(Name, 6, "only the chain's authority may do this")
	ErrCorruptState    = errs.Register(Name, 7, "corrupt registry state")
	ErrIdentityInUse   = errs.Register(Name, 8, "identity key registered by another operator")
	ErrRoleChange      = errs.Register(Name, 9, "a node cannot change its role")
	ErrInvalidPolicy   = errs.Register(Name, 10, "invalid policy")
	ErrUnknownIdentity = errs.Register(Name, 11, "no such node")
	ErrParams          = errs.Register(Name, 15, "parameter out of range")
)

// Gas of each method. Registration verifies a quote (certificate chains,
// CRLs, several ECDSA signatures: about a millisecond) where a transfer
// verifies one ed25519 signature, and its quote and collateral make it ten
// times a transfer's size, so the per-byte fee already prices it at about
// ten transfers.
const (
	RegisterGas = 2_000_000
	AdminGas    = 10_000
)

// Heartbeat errors.
var (
	ErrBadHeartbeat   = errs.Register(Name, 12, "invalid heartbeat")
	ErrStaleHeartbeat = errs.Register(Name, 13, "heartbeat older than the node's last one")
)

// Validate checks that a grant names exactly one of a key and an operator.
func (g Grant) Validate() error {
	hasKey, hasOp := len(g.IdentityKey) > 0, !g.Operator.IsZero()
	switch {
	case hasKey == hasOp:
		return fmt.Errorf("a gatekeeper grant names exactly one of identity_key and operator")
	case hasKey && len(g.IdentityKey) != ed25519.PublicKeySize:
		return fmt.Errorf("identity key is %d bytes, want %d", len(g.IdentityKey), ed25519.PublicKeySize)
	}
	return nil
}

// Genesis is the registry's section of the genesis file. Who may change
// the policy and the gatekeepers is not the registry's business any more:
// governance, or a development chain's gov.unsafe_dev_admin
// (chain/authority).
type Genesis struct {
	Policy      attest.Policy `json:"policy"`
	Params      Params        `json:"params"`
	Gatekeepers []Grant       `json:"gatekeepers"`
}

// DefaultGenesis accepts sim quotes only if allowSim: a development network
// does, a production one must not.
func DefaultGenesis(allowSim bool, gatekeepers ...Grant) Genesis {
	p := attest.Policy{AllowSim: allowSim} // default statuses: UpToDate, SWHardeningNeeded
	return Genesis{Policy: p, Params: DefaultParams(), Gatekeepers: gatekeepers}
}

// Validate checks a genesis section before the chain or an enclave uses it.
func (g Genesis) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	if err := g.Policy.Validate(); err != nil {
		return err
	}
	for i, gr := range g.Gatekeepers {
		if err := gr.Validate(); err != nil {
			return fmt.Errorf("gatekeeper %d: %w", i, err)
		}
	}
	return nil
}
