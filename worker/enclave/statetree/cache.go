package statetree

import "sync"

// DefaultCacheBytes is the cache a worker's contracts share unless
// configured: clean nodes, decoded.
const DefaultCacheBytes = 32 << 20

// Cache keeps recently used clean nodes of any number of trees, bounded
// by their estimated memory; the least recently used go first. Safe for
// concurrent use.
type Cache struct {
	mu   sync.Mutex
	max  int
	used int
	m    map[cacheKey]*cacheEntry
	// A ring with a sentinel: head.next is the most recently used.
	head cacheEntry
}

type cacheKey struct {
	ns [32]byte
	id PageID
}

type cacheEntry struct {
	key        cacheKey
	n          *node
	size       int
	prev, next *cacheEntry
}

// NewCache is a cache of at most maxBytes (estimated) of nodes.
func NewCache(maxBytes int) *Cache {
	c := &Cache{max: maxBytes, m: map[cacheKey]*cacheEntry{}}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// Used is the estimated memory the cache holds now.
func (c *Cache) Used() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

func (c *Cache) get(k cacheKey) *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		return nil
	}
	c.unlink(e)
	c.front(e)
	return e.n
}

// add keeps n (which must never change again) under k.
func (c *Cache) add(k cacheKey, n *node) {
	size := n.memSize()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[k]; e != nil {
		c.unlink(e)
		c.front(e)
		return
	}
	if size > c.max {
		return // larger than the whole cache: read it again when needed
	}
	e := &cacheEntry{key: k, n: n, size: size}
	c.m[k] = e
	c.front(e)
	c.used += size
	for c.used > c.max {
		old := c.head.prev
		c.unlink(old)
		delete(c.m, old.key)
		c.used -= old.size
	}
}

func (c *Cache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *Cache) front(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}
