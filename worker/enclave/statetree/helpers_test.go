package statetree

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
)

// memPages is a page store in a map, for the tree's own tests (the
// worker's is package pagefile, tested with the tree there).
type memPages struct {
	mu   sync.Mutex
	m    map[PageID][]byte
	puts int
}

func newMemPages() *memPages { return &memPages{m: map[PageID][]byte{}} }

func (p *memPages) Get(id PageID) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.m[id]
	if !ok {
		return nil, fmt.Errorf("page %s: %w", id, ErrNotFound)
	}
	return bytes.Clone(b), nil
}

func (p *memPages) Put(id PageID, blob []byte) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, had := p.m[id]
	p.m[id] = bytes.Clone(blob)
	p.puts++
	return !had, nil
}

func (p *memPages) Delete(id PageID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
	return nil
}

func (p *memPages) List(fn func(PageID)) error {
	p.mu.Lock()
	ids := slices.Collect(maps.Keys(p.m))
	p.mu.Unlock()
	for _, id := range ids {
		fn(id)
	}
	return nil
}

func (p *memPages) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

func testKeys(b byte) Keys {
	var k Keys
	for i := range k.MAC {
		k.MAC[i], k.Encryption[i] = b, b+1
	}
	return k
}

func openTree(t testing.TB, pages PageStore, keys Keys, root PageID) *Tree {
	t.Helper()
	tr, err := Open(Config{Pages: pages, Keys: keys, Cache: NewCache(1 << 20), Name: "test"}, root)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustCommit(t testing.TB, tr *Tree) PageID {
	t.Helper()
	id, err := tr.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkShape walks the whole tree and checks what every version must
// hold: levels step down by one, keys ascend within their parent's
// bounds, nodes are not over maxPage unless they hold one entry, internal
// nodes have two kids or more. It returns the entries in order.
func checkShape(t testing.TB, tr *Tree) [][2][]byte {
	t.Helper()
	var out [][2][]byte
	var walk func(k kid, level int, lo, hi []byte)
	walk = func(k kid, level int, lo, hi []byte) {
		n, err := tr.load(k, level)
		if err != nil {
			t.Fatal(err)
		}
		if n.size > maxPage && n.count() > 1 {
			t.Fatalf("a node of %d bytes and %d entries", n.size, n.count())
		}
		for i, key := range n.keys {
			if i == 0 && !n.leaf() {
				continue
			}
			if lo != nil && bytes.Compare(key, lo) < 0 || hi != nil && bytes.Compare(key, hi) >= 0 {
				t.Fatalf("key %x outside [%x, %x)", key, lo, hi)
			}
		}
		if n.leaf() {
			for i := range n.keys {
				out = append(out, [2][]byte{n.keys[i], n.vals[i]})
			}
			return
		}
		if len(n.kids) < 2 {
			t.Fatalf("an internal node at level %d with %d kid", n.level, len(n.kids))
		}
		for i := range n.kids {
			klo, khi := lo, hi
			if i > 0 {
				klo = n.keys[i]
			}
			if i+1 < len(n.kids) {
				khi = n.keys[i+1]
			}
			walk(n.kids[i], int(n.level)-1, klo, khi)
		}
	}
	walk(tr.root, -1, nil, nil)
	for i := 1; i < len(out); i++ {
		if bytes.Compare(out[i-1][0], out[i][0]) >= 0 {
			t.Fatalf("entries out of order at %d", i)
		}
	}
	return out
}

// reachable counts the pages the committed root reaches.
func reachable(t testing.TB, tr *Tree, root PageID) int {
	t.Helper()
	live := map[PageID]bool{root: true}
	if err := tr.mark(root, live); err != nil {
		t.Fatal(err)
	}
	return len(live)
}
