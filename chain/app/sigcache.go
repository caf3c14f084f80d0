package app

import (
	"sync"

	"github.com/phala-go/phala/chain/tx"
)

// sigCache remembers the verdict of signatures this node has verified, by
// the hash of the transaction's exact bytes, so that neither CheckTx after
// PreCheckTx nor FinalizeBlock after CheckTx verifies the same bytes again.
// A verdict depends only on those bytes, so reusing it is safe either way;
// a miss just verifies. Refusals are kept too, so a transaction with a bad
// signature costs one verification, outside the ABCI lock.
//
// The newest entries also keep the decoded transaction, which is as much a
// function of the bytes as the verdict, so CheckTx, the rechecks and
// FinalizeBlock skip decoding it again. Callers must treat it as read-only.
// PreCheckTx runs concurrently with the other ABCI calls, hence the lock.
type sigCache struct {
	mu   sync.Mutex
	idx  map[[32]byte]int // hash → position in ring
	ring []sigEntry       // insertion order, for eviction
	next int
	// keepDecoded is how many of the newest entries keep their decoding:
	// enough for a full mempool and a block, small enough to bound memory.
	keepDecoded int
}

type sigEntry struct {
	hash   [32]byte
	used   bool
	valid  bool
	signed *tx.Signed // nil once older than keepDecoded
}

func newSigCache(capacity int) *sigCache {
	return &sigCache{
		idx: make(map[[32]byte]int, capacity), ring: make([]sigEntry, capacity),
		keepDecoded: min(capacity, 1<<16),
	}
}

// add records the verdict for h and, if not nil, its decoding.
func (c *sigCache) add(h [32]byte, valid bool, signed *tx.Signed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.idx[h]; ok {
		if c.ring[i].signed == nil {
			c.ring[i].signed = signed
		}
		return
	}
	if old := c.ring[c.next]; old.used {
		delete(c.idx, old.hash)
	}
	c.ring[c.next] = sigEntry{hash: h, used: true, valid: valid, signed: signed}
	c.idx[h] = c.next
	stale := (c.next - c.keepDecoded + len(c.ring)) % len(c.ring)
	if stale != c.next {
		c.ring[stale].signed = nil
	}
	c.next = (c.next + 1) % len(c.ring)
}

// get returns the remembered verdict and decoding (nil if dropped), if any.
func (c *sigCache) get(h [32]byte) (valid, known bool, signed *tx.Signed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.idx[h]
	if !ok {
		return false, false, nil
	}
	e := c.ring[i]
	return e.valid, true, e.signed
}
