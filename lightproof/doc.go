// Package lightproof verifies what a node answers: it proves a state
// entry (or its absence) against the app hash of a header that CometBFT's
// own light client verified from a trust root the user chose (a height
// and a header hash, trusted for a period). The node is untrusted; so is
// every witness.
//
// It is the one package of ours outside the node that links CometBFT's
// light client, and with it CometBFT's types and RPC packages (the light
// client links its HTTP provider). Package client stays light: wallets
// that only read and send link no CometBFT; a program that wants answers
// it need not trust links this package (the CLI does, and links the node
// anyway). internal/archtest holds both rules.
//
// The proven read picks height h = newest-1, so that header h+1, which
// carries the app hash of the state after h, already exists; it asks the
// node for the entry at h with its proof, has the light client verify
// header h+1, then checks the proof (chain/proof) against that header's
// app hash.
package lightproof
