package state

import (
	"bytes"
	"sort"
)

// Reader reads state; a missing key reads as nil with no error.
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// IterReader reads and iterates committed state (chain/store's Store).
type IterReader interface {
	Reader
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// Overlay buffers writes over a parent reader. A block's writes live in one
// overlay over the store; each transaction runs in a branch of it that is
// merged only if the transaction succeeds, so a failed transaction changes
// nothing.
type Overlay struct {
	parent Reader
	writes map[string][]byte // nil value: deleted
}

// NewOverlay starts an empty overlay over parent.
func NewOverlay(parent Reader) *Overlay {
	return &Overlay{parent: parent, writes: map[string][]byte{}}
}

// Get returns the newest value of key.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, nil
	}
	return o.parent.Get(key)
}

// Set writes value (nil or empty values are stored as empty, not deleted).
func (o *Overlay) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	o.writes[string(key)] = value
}

// Delete removes key.
func (o *Overlay) Delete(key []byte) { o.writes[string(key)] = nil }

// Branch starts a child overlay whose writes reach o only through Merge.
func (o *Overlay) Branch() *Overlay { return NewOverlay(o) }

// Merge applies a child's writes to its parent overlay.
func (o *Overlay) Merge() {
	parent, ok := o.parent.(*Overlay)
	if !ok {
		panic("state: Merge on an overlay whose parent is not an overlay")
	}
	for k, v := range o.writes {
		parent.writes[k] = v
	}
}

// Empty reports whether nothing was written.
func (o *Overlay) Empty() bool { return len(o.writes) == 0 }

// Change is one write: Value nil means deleted.
type Change struct {
	Key, Value []byte
}

// Changes lists the writes in key order.
func (o *Overlay) Changes() []Change {
	out := make([]Change, 0, len(o.writes))
	for k, v := range o.writes {
		out = append(out, Change{Key: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}
