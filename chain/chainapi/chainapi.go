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

// QueryState answers the raw value of one state key (data: the key) as a
// CBOR StateEntry, at the request's height (0: the last committed). With
// prove set, the answer carries the proof (chain/proof) that the entry is
// in the state under the app hash header height+1 carries.
const QueryState = "chain/state"

// StateEntry is a state key's stored value, or its absence.
type StateEntry struct {
	_     struct{} `cbor:",toarray"`
	Found bool
	Value []byte
}

// Anchor is a committed block's height and hash.
type Anchor struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	Hash   []byte
}
