// Package cmtwire computes the few things CometBFT derives from its own
// protobuf types that phala must compute identically without linking
// CometBFT's types package: a header's hash, a validator's address, the
// canonical order of a validator set, the set's hash, and the bounds on its
// voting power.
//
// Both the enclave's light client (worker/lightclient) and the relay's RPC
// client (cometrpc) need these rules, and a mismatch between them, or with
// CometBFT, would make the enclave refuse every batch the relay builds.
// Keeping one copy here gives them one place to be right, and one set of
// tests that compares them byte for byte with CometBFT's types package.
//
// The package is a leaf so the enclave can link it: it depends only on the
// standard library, CometBFT's generated protobuf types, its Merkle and
// tmhash packages and gogoproto's wrapper types; no RPC, database or test
// library. It only computes; checking that a header or set is well formed
// is left to its callers, which decide how strict to be.
package cmtwire
