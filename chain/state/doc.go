// Package state is the consensus application's state model: overlays that
// buffer a block's and a transaction's writes over committed state, a
// block's sorted change list, and typed keys with one-byte module
// prefixes. The database that holds committed state is chain/store; this
// package links no database, so enclaves can read chain types through it.
package state
