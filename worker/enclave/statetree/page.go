package statetree

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/phala-go/phala/codec"
)

// PageID names a page: HMAC-SHA256 of its encoding under the state MAC
// key.
type PageID [32]byte

// String is the id in hex.
func (p PageID) String() string { return hex.EncodeToString(p[:]) }

// IsZero reports the zero id (no page; a tree never committed).
func (p PageID) IsZero() bool { return p == PageID{} }

// Page sizes. A node splits when its estimated encoding grows over
// maxPage (unless it holds a single entry: one large value is one page)
// and is merged with a sibling when it shrinks under minPage. Small pages
// keep the bytes a block rewrites low: a changed entry costs its leaf and
// the internal nodes above it.
const (
	maxPage = 4096
	minPage = maxPage / 4
	// Per-entry estimates of the encoding's framing (CBOR heads) and of a
	// decoded entry's memory (slice headers and allocation).
	entryFrame = 6
	entryMem   = 64
	nodeMem    = 160
	// maxLevel bounds a tree's height (a page claiming more is refused):
	// 32 levels of fanout two hold more entries than any store can.
	maxLevel = 32
)

// node is a decoded page. Nodes reached through a page id are shared and
// never changed; the writer changes only its own copies (dirty nodes,
// which kid.n points to) until Commit seals them.
//
// A leaf (level 0) holds entries: keys ascending, vals beside them. An
// internal node holds kids; keys[i] is the smallest key kids[i] may hold
// (keys[0] is empty: the parent's own bound applies).
type node struct {
	level uint8
	keys  [][]byte
	vals  [][]byte
	kids  []kid
	size  int // estimated encoding size (entrySize summed)
}

// kid is a child reference: a committed page, or a dirty node.
type kid struct {
	id PageID
	n  *node
}

// piece is a node with the lower bound its parent must give it (nil for
// the first piece of a split: it keeps the bound it had).
type piece struct {
	lo []byte
	n  *node
}

// page is a node's encoding (canonical CBOR).
type page struct {
	_      struct{} `cbor:",toarray"`
	Level  uint8
	Keys   [][]byte
	Values [][]byte // leaves
	Kids   []PageID // internal nodes
}

func (n *node) leaf() bool { return n.level == 0 }
func (n *node) count() int { return len(n.keys) }

func (n *node) entrySize(i int) int {
	if n.leaf() {
		return len(n.keys[i]) + len(n.vals[i]) + entryFrame
	}
	return len(n.keys[i]) + len(PageID{}) + entryFrame
}

// memSize estimates the memory a decoded node holds, for the cache.
func (n *node) memSize() int { return n.size + entryMem*n.count() + nodeMem }

func (n *node) resize() {
	n.size = 0
	for i := range n.keys {
		n.size += n.entrySize(i)
	}
}

// find is the index of key in a leaf, or where it would go.
func (n *node) find(key []byte) (int, bool) {
	return slices.BinarySearchFunc(n.keys, key, bytes.Compare)
}

// child is the index of the kid whose range holds key: the last one whose
// lower bound is at most key.
func (n *node) child(key []byte) int {
	i, found := slices.BinarySearchFunc(n.keys[1:], key, bytes.Compare)
	if found {
		return i + 1
	}
	return i
}

// clone is a private copy of a shared node: the slices are new, the byte
// strings (never changed in place) are shared.
func (n *node) clone() *node {
	return &node{level: n.level, keys: slices.Clone(n.keys), vals: slices.Clone(n.vals), kids: slices.Clone(n.kids), size: n.size}
}

// encode is the node's canonical encoding; every kid must be committed.
// Fresh slices make the encoding a function of the contents alone (an
// empty list is always an empty array, never null).
func (n *node) encode() []byte {
	p := page{Level: n.level, Keys: make([][]byte, len(n.keys)), Values: make([][]byte, len(n.vals)), Kids: make([]PageID, len(n.kids))}
	copy(p.Keys, n.keys)
	copy(p.Values, n.vals)
	for i, k := range n.kids {
		if k.n != nil {
			panic("statetree: encoding a node with an uncommitted kid") // a bug in Commit, not input
		}
		p.Kids[i] = k.id
	}
	return codec.MustMarshal(p)
}

// decode is the strict inverse of encode. Pages reach it only after they
// authenticated, so a refusal here means a bug or a key reused elsewhere;
// it is still checked, never trusted.
func decode(b []byte) (*node, error) {
	var p page
	if err := codec.UnmarshalCanonical(b, &p); err != nil {
		return nil, err
	}
	n := &node{level: p.Level, keys: p.Keys, vals: p.Values}
	if err := p.check(); err != nil {
		return nil, err
	}
	if !n.leaf() {
		n.vals = nil
		n.kids = make([]kid, len(p.Kids))
		for i, id := range p.Kids {
			n.kids[i] = kid{id: id}
		}
	}
	n.resize()
	return n, nil
}

func (p *page) check() error {
	if p.Level > maxLevel {
		return fmt.Errorf("level %d", p.Level)
	}
	if slices.ContainsFunc(p.Keys, func(k []byte) bool { return k == nil }) || slices.ContainsFunc(p.Values, func(v []byte) bool { return v == nil }) {
		return fmt.Errorf("a null key or value")
	}
	if p.Level == 0 {
		if len(p.Values) != len(p.Keys) || len(p.Kids) != 0 {
			return fmt.Errorf("leaf of %d keys, %d values, %d kids", len(p.Keys), len(p.Values), len(p.Kids))
		}
		return ascending(p.Keys)
	}
	switch {
	case len(p.Kids) == 0 || len(p.Kids) != len(p.Keys) || len(p.Values) != 0:
		return fmt.Errorf("internal node of %d keys, %d values, %d kids", len(p.Keys), len(p.Values), len(p.Kids))
	case len(p.Keys[0]) != 0:
		return fmt.Errorf("internal node whose first bound is not empty")
	}
	return ascending(p.Keys)
}

func ascending(keys [][]byte) error {
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			return fmt.Errorf("keys not ascending at %d", i)
		}
	}
	return nil
}

// split cuts a node grown over maxPage in two by size, then each half
// again if it is still over: the pieces, the first with bound lo.
func (n *node) split(lo []byte) []piece {
	if n.size <= maxPage || n.count() < 2 {
		return []piece{{lo: lo, n: n}}
	}
	cut, acc := n.count()-1, 0
	for i := range n.count() - 1 {
		if acc += n.entrySize(i); acc >= n.size/2 {
			cut = i + 1
			break
		}
	}
	right := &node{level: n.level, keys: slices.Clone(n.keys[cut:])}
	rightLo := right.keys[0]
	n.keys = slices.Clone(n.keys[:cut])
	if n.leaf() {
		right.vals = slices.Clone(n.vals[cut:])
		n.vals = slices.Clone(n.vals[:cut])
	} else {
		right.keys[0] = []byte{}
		right.kids = slices.Clone(n.kids[cut:])
		n.kids = slices.Clone(n.kids[:cut])
	}
	n.resize()
	right.resize()
	return append(n.split(lo), right.split(rightLo)...)
}

// absorb appends right (the next sibling, at bound sep) to n.
func (n *node) absorb(right *node, sep []byte) {
	if n.leaf() {
		n.keys = append(n.keys, right.keys...)
		n.vals = append(n.vals, right.vals...)
	} else {
		n.keys = append(append(n.keys, sep), right.keys[1:]...)
		n.kids = append(n.kids, right.kids...)
	}
	n.resize()
}

// underfull: small enough to merge with a sibling.
func (n *node) underfull() bool { return n.size < minPage || !n.leaf() && len(n.kids) < 2 }

// replace puts pieces in place of kid i (the first keeps kid i's bound).
func (n *node) replace(i int, ps []piece) {
	n.kids[i] = kid{n: ps[0].n}
	if len(ps) > 1 {
		keys := make([][]byte, len(ps)-1)
		kids := make([]kid, len(ps)-1)
		for j, p := range ps[1:] {
			keys[j], kids[j] = p.lo, kid{n: p.n}
		}
		n.keys = slices.Insert(n.keys, i+1, keys...)
		n.kids = slices.Insert(n.kids, i+1, kids...)
	}
	n.resize()
}
