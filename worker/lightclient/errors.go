package lightclient

import (
	"encoding/hex"

	"github.com/phala-go/phala/errs"
)

const module = "lightclient"

// Error kinds of the light client. Codes are stable: never renumber, only add.
var (
	// ErrMalformed: the batch or one of its protobuf parts does not decode or
	// fails CometBFT's basic validation.
	ErrMalformed = errs.Register(module, 1, "malformed batch")
	// ErrWrongChain: a header names another chain id.
	ErrWrongChain = errs.Register(module, 2, "block from another chain")
	// ErrWrongHeight: a header is not the next height (replay or gap).
	ErrWrongHeight = errs.Register(module, 3, "unexpected block height")
	// ErrBrokenLink: a header's LastBlockID does not name the header before it.
	ErrBrokenLink = errs.Register(module, 4, "header does not link to its parent")
	// ErrValidatorSet: a header's validator set is not the known one, or a
	// validator-set change is not carried correctly.
	ErrValidatorSet = errs.Register(module, 5, "validator set mismatch")
	// ErrBadCommit: the commit is not for the last header or lacks more than
	// 2/3 of the voting power in valid signatures.
	ErrBadCommit = errs.Register(module, 6, "commit does not prove the last header")
	// ErrAppHash: a parent digest does not reproduce the app hash its child
	// header carries.
	ErrAppHash = errs.Register(module, 7, "app hash mismatch")
	// ErrTime: header times do not strictly increase.
	ErrTime = errs.Register(module, 8, "block time not increasing")
	// ErrParent: a parent digest is for the wrong block or cannot be right.
	ErrParent = errs.Register(module, 9, "bad parent digest")
	// ErrState: the State handed in cannot be used (corrupt checkpoint).
	ErrState = errs.Register(module, 10, "unusable light client state")
	// ErrGenesis: the genesis document cannot start a light client.
	ErrGenesis = errs.Register(module, 11, "unusable genesis")
)

// short renders a hash for error messages: enough to tell two apart.
func short(b []byte) string {
	if len(b) == 0 {
		return "<empty>"
	}
	if len(b) > 6 {
		return hex.EncodeToString(b[:6]) + "…"
	}
	return hex.EncodeToString(b)
}
