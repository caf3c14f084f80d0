package mq

import (
	"errors"
	"fmt"

	"github.com/phala-go/phala/crypto/sigctx"
)

// Block is what a relay hands an enclave, beside the block's header, so the
// enclave can check the block's effect on the app hash: the root of the
// whole application state after the block (opaque to the enclave, which
// holds no state) and the block's ordered message list, whose root it
// recomputes.
type Block struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	// StateRoot is the Merkle (IAVL) root of the application state after
	// the block. Every block writes state (at least its own hash, for
	// attestation freshness), so every block has one and moves the app hash.
	StateRoot []byte
	Messages  []Message
}

// ErrBadBlock is returned for a Block whose fields cannot be right.
var ErrBadBlock = errors.New("mq: malformed block digest")

// AppHash is the app hash after block b, given the one before it. It is the
// only formula for the app hash: the chain computes it with it, enclaves
// check it with it, and proofs of state climb from the state root to it.
func (b Block) AppHash(chainID string, prev []byte) ([]byte, error) {
	if len(b.StateRoot) != 32 {
		return nil, fmt.Errorf("%w: block %d state root is %d bytes", ErrBadBlock, b.Height, len(b.StateRoot))
	}
	root := Root(chainID, b.Messages)
	return NextAppHash(chainID, prev, b.StateRoot, root[:]), nil
}

// NextAppHash chains the previous app hash with a block's state root and
// the root of its message list: H(phala/apphash, chain id, previous app
// hash, state root, messages root).
func NextAppHash(chainID string, prev, stateRoot, messagesRoot []byte) []byte {
	h := sigctx.AppHash.Hash(chainID, prev, stateRoot, messagesRoot)
	return h[:]
}
