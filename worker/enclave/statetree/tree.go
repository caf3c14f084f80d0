package statetree

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// Config opens a tree.
type Config struct {
	Pages PageStore
	Keys  Keys
	// Cache is shared by the trees of a worker; nil: a private cache of
	// DefaultCacheBytes.
	Cache *Cache
	// Name names the tree in errors (the contract id).
	Name string
}

// Tree is one contract's state. Get, Set, Delete, Next and Commit come
// from one goroutine (the writer); Get and Next may also run from several
// goroutines at once while no write or commit runs. Snapshot readers run
// concurrently with everything.
//
// The first error reading or writing a page (tampering, a missing page,
// a failing store) sticks: every later call returns it, so nothing is
// ever computed over state the tree could not check.
type Tree struct {
	pages PageStore
	seal  *sealer
	cache *Cache
	ns    [32]byte // cache namespace: a fingerprint of the MAC key
	name  string

	root   kid // the working root: dirty from a change to Commit
	broken atomic.Pointer[error]
	// replaced are the committed pages the changes since the last Commit
	// copied (their new versions replace them); young are the pages this
	// tree created since the last checkpoint. A young page replaced is in
	// no checkpoint and no committed root any more: Commit deletes it at
	// once, so versions between checkpoints leave nothing behind.
	replaced []PageID
	young    map[PageID]struct{}

	mu        sync.Mutex
	committed PageID
	pins      map[PageID]int // roots of open snapshots
}

// Open opens the tree whose committed root is root; the zero root is an
// empty tree, whose first Commit writes its one page. Nothing is read
// until a call needs it.
func Open(cfg Config, root PageID) (*Tree, error) {
	s, err := newSealer(cfg.Keys)
	if err != nil {
		return nil, ErrUsage.Wrapf("state keys: %v", err)
	}
	if cfg.Cache == nil {
		cfg.Cache = NewCache(DefaultCacheBytes)
	}
	t := &Tree{pages: cfg.Pages, seal: s, cache: cfg.Cache, name: cfg.Name, pins: map[PageID]int{}, committed: root}
	// An id names one content under one MAC key, so the key's
	// fingerprint and the id name a node in a cache that trees share: a
	// tree opened with other keys never sees another's nodes.
	t.ns = sha256.Sum256(append([]byte("phala/statetree/cache/v1\x00"), cfg.Keys.MAC[:]...))
	if root.IsZero() {
		t.root = kid{n: &node{}}
	} else {
		t.root = kid{id: root}
	}
	return t, nil
}

// Root is the committed root: the id of the root page, which
// authenticates the whole tree (zero before the first Commit).
func (t *Tree) Root() PageID {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.committed
}

// Dirty reports changes not committed yet.
func (t *Tree) Dirty() bool { return t.root.n != nil }

// Err is the error that stopped the tree, if any.
func (t *Tree) Err() error {
	if p := t.broken.Load(); p != nil {
		return *p
	}
	return nil
}

func (t *Tree) fail(err error) error {
	t.broken.CompareAndSwap(nil, &err)
	return err
}

// Get implements vm.Store.
func (t *Tree) Get(key []byte) ([]byte, bool, error) {
	if err := t.Err(); err != nil {
		return nil, false, err
	}
	return t.get(t.root, key)
}

// Next implements vm.Store: the first entry with the prefix whose key is
// greater than after (the first with the prefix when after is nil).
func (t *Tree) Next(prefix, after []byte) ([]byte, []byte, bool, error) {
	if err := t.Err(); err != nil {
		return nil, nil, false, err
	}
	return t.next(t.root, prefix, after)
}

// Set implements vm.Store. Setting the value a key has changes nothing.
func (t *Tree) Set(key, value []byte) error {
	if err := t.Err(); err != nil {
		return err
	}
	// Never null: the encoding of an entry must not depend on whether the
	// caller passed nil or an empty slice.
	key, value = append([]byte{}, key...), append([]byte{}, value...)
	ps, changed, err := t.set(t.root, -1, key, value)
	if err != nil || !changed {
		return err
	}
	t.root = grow(ps)
	return nil
}

// Delete implements vm.Store. Deleting an absent key changes nothing.
func (t *Tree) Delete(key []byte) error {
	if err := t.Err(); err != nil {
		return err
	}
	n, changed, err := t.del(t.root, -1, key)
	if err != nil || !changed {
		return err
	}
	root := kid{n: n}
	for { // a root with one kid gives way to it
		r, err := t.load(root, -1)
		if err != nil {
			return err
		}
		if r.leaf() || len(r.kids) > 1 {
			break
		}
		root = r.kids[0]
	}
	t.root = root
	return nil
}

// Commit seals and puts every changed page, children first, each once,
// and makes the new root the committed one. Without changes it only
// returns the root.
func (t *Tree) Commit() (PageID, error) {
	if err := t.Err(); err != nil {
		return PageID{}, err
	}
	if t.root.n != nil {
		written := map[PageID]bool{}
		id, err := t.flush(t.root.n, written)
		if err != nil {
			return PageID{}, t.fail(err)
		}
		t.root = kid{id: id}
		t.mu.Lock()
		t.committed = id
		pinned := len(t.pins) > 0
		t.mu.Unlock()
		if !pinned { // a snapshot may read replaced pages: Sweep gets them later
			t.dropYoung(written)
		}
	}
	t.replaced = nil
	return t.root.id, nil
}

// maxYoung bounds the young pages a tree remembers; pages created past
// it are left to Sweep.
const maxYoung = 1 << 16

func (t *Tree) flush(n *node, written map[PageID]bool) (PageID, error) {
	for i, k := range n.kids {
		if k.n != nil {
			id, err := t.flush(k.n, written)
			if err != nil {
				return PageID{}, err
			}
			n.kids[i] = kid{id: id}
		}
	}
	enc := n.encode()
	id := t.seal.id(enc)
	fresh, err := t.pages.Put(id, t.seal.seal(id, enc))
	if err != nil {
		return PageID{}, ErrStore.Wrapf("put page %s of %s: %v", id, t.name, err)
	}
	written[id] = true
	// Only a page that was not stored before is young: one already there
	// (the same contents again) may be in a checkpoint.
	if fresh && len(t.young) < maxYoung {
		if t.young == nil {
			t.young = map[PageID]struct{}{}
		}
		t.young[id] = struct{}{}
	}
	t.cache.add(cacheKey{t.ns, id}, n) // clean now, and never changed again
	return id, nil
}

// dropYoung deletes the young pages the last changes replaced (unless
// written again: the same contents). A page of one version is never at
// another place of the next (its keys fix its place), so a replaced
// page not written again is in no version from now on.
func (t *Tree) dropYoung(written map[PageID]bool) {
	for _, id := range t.replaced {
		if _, ok := t.young[id]; !ok || written[id] {
			continue
		}
		delete(t.young, id)
		_ = t.pages.Delete(id) // a failure leaves garbage for Sweep
	}
}

// Checkpointed tells the tree that a checkpoint naming its committed root
// is durable: the pages it created so far are in it, no longer young.
func (t *Tree) Checkpointed() { t.young = nil }

// load is a kid's node: its dirty node, or its page through the cache.
// level is the level its parent implies (-1: the root, any level).
func (t *Tree) load(k kid, level int) (*node, error) {
	if k.n != nil {
		return k.n, nil
	}
	n, err := t.read(k.id)
	if err == nil && level >= 0 && int(n.level) != level {
		err = ErrTampered.Wrapf("page %s of %s is at level %d where its parent names level %d", k.id, t.name, n.level, level)
	}
	if err != nil {
		return nil, t.fail(err)
	}
	return n, nil
}

// read is page id's node, checked, through the cache.
func (t *Tree) read(id PageID) (*node, error) {
	key := cacheKey{t.ns, id}
	if n := t.cache.get(key); n != nil {
		return n, nil
	}
	blob, err := t.pages.Get(id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrMissing.Wrapf("page %s of %s", id, t.name)
	case err != nil:
		return nil, ErrStore.Wrapf("get page %s of %s: %v", id, t.name, err)
	}
	enc, ok := t.seal.open(id, blob)
	if !ok {
		return nil, ErrTampered.Wrapf("page %s of %s: edited, swapped or rolled back", id, t.name)
	}
	n, err := decode(enc)
	if err != nil {
		return nil, ErrTampered.Wrapf("page %s of %s authenticates but does not decode: %v", id, t.name, err)
	}
	t.cache.add(key, n)
	return n, nil
}

func (t *Tree) get(r kid, key []byte) ([]byte, bool, error) {
	n, err := t.load(r, -1)
	for err == nil && !n.leaf() {
		n, err = t.load(n.kids[n.child(key)], int(n.level)-1)
	}
	if err != nil {
		return nil, false, err
	}
	if i, found := n.find(key); found {
		return n.vals[i], true, nil
	}
	return nil, false, nil
}

func (t *Tree) next(r kid, prefix, after []byte) ([]byte, []byte, bool, error) {
	start, excl := prefix, false
	if after != nil && bytes.Compare(after, prefix) >= 0 {
		start, excl = after, true
	}
	k, v, ok, err := t.seek(r, -1, start, excl)
	if err != nil || !ok || !bytes.HasPrefix(k, prefix) {
		return nil, nil, false, err
	}
	return k, v, true, nil
}

// seek is the first entry under r at or after start (after, if excl).
func (t *Tree) seek(r kid, level int, start []byte, excl bool) ([]byte, []byte, bool, error) {
	n, err := t.load(r, level)
	if err != nil {
		return nil, nil, false, err
	}
	if n.leaf() {
		i, found := n.find(start)
		if found && excl {
			i++
		}
		if i < n.count() {
			return n.keys[i], n.vals[i], true, nil
		}
		return nil, nil, false, nil
	}
	// The kid whose range holds start may end before it; the next one
	// starts after start, so its first entry is the answer.
	for j := n.child(start); j < len(n.kids); j++ {
		k, v, ok, err := t.seek(n.kids[j], int(n.level)-1, start, excl)
		if err != nil || ok {
			return k, v, ok, err
		}
	}
	return nil, nil, false, nil
}

// own is a node the writer may change: r's dirty node, or a copy of n,
// which replaces n's page.
func (t *Tree) own(r kid, n *node) *node {
	if r.n != nil {
		return n
	}
	t.replaced = append(t.replaced, r.id)
	return n.clone()
}

// set puts key under r: the pieces replacing r (changed false: nothing
// to replace, the value was there already).
func (t *Tree) set(r kid, level int, key, val []byte) ([]piece, bool, error) {
	n, err := t.load(r, level)
	if err != nil {
		return nil, false, err
	}
	if n.leaf() {
		i, found := n.find(key)
		if found && bytes.Equal(n.vals[i], val) {
			return nil, false, nil
		}
		n = t.own(r, n)
		if found {
			n.vals[i] = val
		} else {
			n.keys = slices.Insert(n.keys, i, key)
			n.vals = slices.Insert(n.vals, i, val)
		}
		n.resize()
		return n.split(nil), true, nil
	}
	i := n.child(key)
	ps, changed, err := t.set(n.kids[i], int(n.level)-1, key, val)
	if err != nil || !changed {
		return nil, changed, err
	}
	n = t.own(r, n)
	n.replace(i, ps)
	return n.split(nil), true, nil
}

// grow makes a root of the pieces a change left at the top.
func grow(ps []piece) kid {
	for len(ps) > 1 {
		root := &node{level: ps[0].n.level + 1, keys: [][]byte{{}}, kids: []kid{{n: ps[0].n}}}
		for _, p := range ps[1:] {
			root.keys = append(root.keys, p.lo)
			root.kids = append(root.kids, kid{n: p.n})
		}
		root.resize()
		ps = root.split(nil)
	}
	return kid{n: ps[0].n}
}

// del removes key under r: the node replacing r (changed false: the key
// was absent).
func (t *Tree) del(r kid, level int, key []byte) (*node, bool, error) {
	n, err := t.load(r, level)
	if err != nil {
		return nil, false, err
	}
	if n.leaf() {
		i, found := n.find(key)
		if !found {
			return nil, false, nil
		}
		n = t.own(r, n)
		n.keys = slices.Delete(n.keys, i, i+1)
		n.vals = slices.Delete(n.vals, i, i+1)
		n.resize()
		return n, true, nil
	}
	i := n.child(key)
	c, changed, err := t.del(n.kids[i], int(n.level)-1, key)
	if err != nil || !changed {
		return nil, changed, err
	}
	n = t.own(r, n)
	n.kids[i] = kid{n: c}
	if c.underfull() && len(n.kids) > 1 {
		if err := t.rebalance(n, i); err != nil {
			return nil, false, err
		}
	}
	n.resize()
	return n, true, nil
}

// rebalance merges kid i of n with a sibling (the next one, or the one
// before when i is last) and splits the result again if it is too big.
func (t *Tree) rebalance(n *node, i int) error {
	l := i
	if i == len(n.kids)-1 {
		l = i - 1
	}
	left, err := t.ownKid(n, l)
	if err != nil {
		return err
	}
	right, err := t.ownKid(n, l+1)
	if err != nil {
		return err
	}
	left.absorb(right, n.keys[l+1])
	n.keys = slices.Delete(n.keys, l+1, l+2)
	n.kids = slices.Delete(n.kids, l+1, l+2)
	n.replace(l, left.split(nil))
	return nil
}

// ownKid is kid i of the writer's node n as a node the writer may change.
func (t *Tree) ownKid(n *node, i int) (*node, error) {
	k := n.kids[i]
	if k.n != nil {
		return k.n, nil
	}
	c, err := t.load(k, int(n.level)-1)
	if err != nil {
		return nil, err
	}
	return t.own(k, c), nil
}
