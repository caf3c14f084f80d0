// Package relaywire is the wire format between the untrusted relay and the
// worker runtime it feeds: blocks in (headers, one commit, validator-set
// changes and each block's message digest), egress out, status and
// registration evidence. Both sides import it; it depends on nothing of
// ours heavier than mq. Bodies are canonical CBOR over HTTP on loopback.
//
// Everything here arrives at the runtime from an untrusted host: the runtime
// decodes it strictly and verifies it before it changes anything.
package relaywire

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/mq"
)

// Version is the version of these structures this code writes and accepts.
const Version = 1

// ContentType is the media type of every body.
const ContentType = "application/cbor"

// The runtime's relay API paths.
const (
	PathStatus   = "/v1/status"   // GET → Status
	PathBlocks   = "/v1/blocks"   // POST Batch → Status
	PathEgress   = "/v1/egress"   // GET → Outbox
	PathEvidence = "/v1/evidence" // POST EvidenceRequest → Evidence
)

// TokenFile is the file in the runtime's home holding the relay API's
// secret (hex, mode 0600). Every relay API request carries it as
// "Authorization: Bearer <secret>"; without it the runtime answers 401.
const TokenFile = "relay-api.token"

// Batch is a run of consecutive blocks the runtime has not seen, closed by
// one commit for the last header. The runtime checks the hash links back
// from that header to the last one it verified, so every header's validator
// set must be the one it knows: a batch ends at the first header whose
// NextValidatorsHash differs from its ValidatorsHash, and carries that next
// set.
type Batch struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Blocks  []Block
	// Commit is the CometBFT protobuf encoding of a commit for the last
	// block's header.
	Commit []byte
	// NextValidators is the protobuf encoding of the validator set named by
	// the last header's NextValidatorsHash, when it differs from its
	// ValidatorsHash; nil otherwise.
	NextValidators []byte
}

// Block is one header with the digest of the block before it: a header
// carries the app hash after its parent, so header h proves block h-1's
// writes hash and message list.
type Block struct {
	_ struct{} `cbor:",toarray"`
	// Header is the CometBFT protobuf encoding of the header.
	Header []byte
	// Parent is the digest of block Height-1; empty for height 1, whose
	// parent is the genesis state.
	Parent mq.Block
}

// Status is what the runtime reports about itself.
type Status struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	ChainID string
	// Height is the last verified header; its parent's messages are the
	// last the runtime processed.
	Height int64
	// BlockHash is the hash of that header.
	BlockHash []byte
	// StateHash commits to the runtime's whole state.
	StateHash     []byte
	IdentityKey   ed25519.PublicKey
	EncryptionKey []byte
	// Registered says whether the runtime has seen itself registered and
	// active on chain.
	Registered bool
	// Role is the registry role the runtime registers as (the numeric
	// registryapi.Role: 1 worker, 2 gatekeeper).
	Role uint8
}

// Outbox is the runtime's egress the chain has not yet confirmed, in
// sequence order.
type Outbox struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Messages []mq.SignedEgress
}

// EvidenceRequest asks the runtime for a quote binding its keys to an
// operator and to the newest block it verified.
type EvidenceRequest struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Operator []byte // the operator's 20-byte account address
}

// Evidence is the runtime's side of a registration; the relay adds the
// collateral and submits it signed by the operator.
type Evidence struct {
	_             struct{} `cbor:",toarray"`
	Version       uint8
	Role          uint8 // registryapi.Role
	IdentityKey   ed25519.PublicKey
	EncryptionKey []byte
	AnchorHeight  int64
	AnchorHash    []byte
	Quote         []byte
}

// Error is the body of every refusal; Module and Code are those of the
// errs package so a relay can tell a refused block from a broken runtime.
type Error struct {
	_       struct{} `cbor:",toarray"`
	Module  string
	Code    uint32
	Message string
}
