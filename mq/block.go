package mq

import (
	"errors"
	"fmt"

	"github.com/phala-go/phala/crypto/sigctx"
)

// Block is what a relay hands an enclave, beside the block's header, so the
// enclave can check the block's effect on the app hash: the hash of the
// block's sorted state writes (opaque to the enclave) and the block's ordered
// message list, whose root it recomputes.
type Block struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	// WritesHash is the hash of the block's sorted state writes; nil when
	// the block wrote nothing and published nothing, which keeps the app
	// hash unchanged.
	WritesHash []byte
	Messages   []Message
}

// ErrBadBlock is returned for a Block whose fields cannot be right.
var ErrBadBlock = errors.New("mq: malformed block digest")

// AppHash is the app hash after block b, given the one before it. It is the
// only formula for the app hash: the chain computes it with it and
// enclaves check it with it.
func (b Block) AppHash(chainID string, prev []byte) ([]byte, error) {
	if b.WritesHash == nil {
		if len(b.Messages) > 0 {
			return nil, fmt.Errorf("%w: block %d publishes messages but has no writes hash", ErrBadBlock, b.Height)
		}
		return prev, nil
	}
	if len(b.WritesHash) != 32 {
		return nil, fmt.Errorf("%w: block %d writes hash is %d bytes", ErrBadBlock, b.Height, len(b.WritesHash))
	}
	return NextAppHash(chainID, prev, b.WritesHash, b.Messages), nil
}

// NextAppHash chains the previous app hash with a block's writes hash and
// the root of its message list.
func NextAppHash(chainID string, prev, writesHash []byte, msgs []Message) []byte {
	root := Root(chainID, msgs)
	h := sigctx.AppHash.Hash(chainID, prev, writesHash, root[:])
	return h[:]
}
