// Package chainapi is the wire form of what the application itself answers,
// apart from any module: the anchor block a TEE node's quote names and the
// per-block digest a relay hands an enclave. Clients, relays and enclaves
// import it instead of the consensus application.
package chainapi

// QueryAnchor answers the newest committed block, the anchor a TEE node's
// report data names to prove its quote is fresh.
const QueryAnchor = "chain/anchor"

// QueryBlock answers a committed block's mq.Block (data: the CBOR height):
// what a relay hands an enclave to check the block's app hash.
const QueryBlock = "chain/block"

// Anchor is a committed block's height and hash.
type Anchor struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	Hash   []byte
}
