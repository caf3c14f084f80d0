package app

// sigCache remembers transactions whose signatures this node has verified,
// by the hash of their exact bytes, so FinalizeBlock need not verify again a
// transaction its own mempool already checked. A hit proves the same bytes
// verified before, so skipping is safe; a miss just verifies.
type sigCache struct {
	seen map[[32]byte]struct{}
	ring [][32]byte // insertion order, for eviction
	next int
}

func newSigCache(capacity int) *sigCache {
	return &sigCache{seen: make(map[[32]byte]struct{}, capacity), ring: make([][32]byte, capacity)}
}

func (c *sigCache) add(h [32]byte) {
	if _, ok := c.seen[h]; ok {
		return
	}
	old := c.ring[c.next]
	delete(c.seen, old)
	c.ring[c.next] = h
	c.next = (c.next + 1) % len(c.ring)
	c.seen[h] = struct{}{}
}

func (c *sigCache) has(h [32]byte) bool {
	_, ok := c.seen[h]
	return ok
}
