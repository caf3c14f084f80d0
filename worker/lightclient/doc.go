// Package lightclient is the enclave's verified view of the chain (DESIGN
// section 3): it takes batches of block headers from the untrusted relay and
// accepts them only when they are provably part of the chain that starts at
// the configured genesis. It is pure and deterministic: no I/O, no clock, no
// randomness, so replaying the same batches from the same State gives the
// same State on every worker.
//
// What is checked, and why one commit per batch is enough:
//
//   - The State holds the validator set that must sign the next header. Every
//     header of a batch must name exactly that set (ValidatorsHash), and a
//     header announcing a different next set (NextValidatorsHash) must close
//     the batch. So the whole batch was produced under one known set.
//   - The batch's single commit must carry signatures of more than 2/3 of
//     that set's voting power for the last header. Under CometBFT's
//     assumption (less than 1/3 Byzantine) the last header is final.
//   - Every header's LastBlockID.Hash is the hash of the header before it,
//     back to the last header the State verified. Header hashes are
//     collision resistant Merkle roots over all header fields, so the signed
//     last header fixes every earlier header of the batch exactly: a relay
//     cannot change a field of any of them without breaking a link or the
//     signature. Checking the links back is therefore as strong as checking
//     a commit for each header, at the cost of one hash per header.
//   - Header h carries the app hash after block h-1. The chain computes it
//     with mq.Block.AppHash from the previous app hash, the block's writes
//     hash and the root of its ordered message list; the relay hands over
//     that digest and the client recomputes the app hash. A message added,
//     removed or reordered changes the root, hence the app hash, hence the
//     signed header: the relay can delay the enclave, never feed it a forged,
//     reordered or incomplete event list.
//   - Heights follow on exactly and times increase strictly, so an old block
//     cannot be replayed and none can be skipped.
//
// Verify returns a new State; the State passed in is a value and is never
// changed, so a refused batch leaves the caller where it was.
//
// What it is built on: the client runs inside the enclave, where every
// linked package is attack surface, so it does not link CometBFT's types
// package (which brings gRPC, testing libraries and much more). It decodes
// with CometBFT's generated protobuf types and computes what CometBFT
// computes itself: header hashes, validator addresses, the validator-set
// order and hash (package cmtwire, shared with the relay's RPC client so
// both sides agree), vote sign bytes and light commit verification
// (commit.go), with curve25519-voi's ed25519 under the ZIP-215 rules
// CometBFT verifies votes with. The tests keep CometBFT's types package as
// the reference: hashes and sign bytes are compared byte for byte, and a
// differential test and fuzz target run the same batches through this
// client and a verifier built on CometBFT and require the same verdicts.
//
// Where it deliberately differs from CometBFT, and why that cannot refuse
// an honest chain: only ed25519 validator keys are supported (the chains
// it follows use them; a set with another key type is refused, never
// misread), and a validator set that names one address twice is refused
// (CometBFT never builds one).
//
// The genesis (genesis.go) is read from CometBFT's genesis.json by
// ParseGenesis, more strictly than CometBFT reads it, and GenesisState
// turns it into the State before block 1.
package lightclient
