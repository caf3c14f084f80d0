package vm

import (
	"bytes"
	"slices"
	"strings"
)

// Store is a contract's private key-value state, provided by the host. Keys
// are ordered bytewise. The VM never shares a Store between contracts.
type Store interface {
	Get(key []byte) (value []byte, ok bool, err error)
	Set(key, value []byte) error
	Delete(key []byte) error
	// Next returns the first entry whose key has the prefix and is greater
	// than after (or the first with the prefix when after is nil).
	Next(prefix, after []byte) (key, value []byte, ok bool, err error)
}

// MemStore is an in-memory sorted Store, for tests and for the VM's own
// per-call write buffer. The zero value is empty and ready to use.
type MemStore struct {
	keys []string // sorted
	vals map[string][]byte
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{vals: map[string][]byte{}} }

// Len is the number of entries.
func (m *MemStore) Len() int { return len(m.keys) }

// Get implements Store.
func (m *MemStore) Get(key []byte) ([]byte, bool, error) {
	v, ok := m.vals[string(key)]
	return v, ok, nil
}

// Set implements Store; it keeps its own copy of key and value.
func (m *MemStore) Set(key, value []byte) error {
	if m.vals == nil {
		m.vals = map[string][]byte{}
	}
	k := string(key)
	if _, ok := m.vals[k]; !ok {
		i, _ := slices.BinarySearch(m.keys, k)
		m.keys = slices.Insert(m.keys, i, k)
	}
	m.vals[k] = bytes.Clone(value)
	return nil
}

// Delete implements Store.
func (m *MemStore) Delete(key []byte) error {
	k := string(key)
	if _, ok := m.vals[k]; !ok {
		return nil
	}
	delete(m.vals, k)
	i, _ := slices.BinarySearch(m.keys, k)
	m.keys = slices.Delete(m.keys, i, i+1)
	return nil
}

// Next implements Store.
func (m *MemStore) Next(prefix, after []byte) ([]byte, []byte, bool, error) {
	k, ok := m.next(prefix, after)
	if !ok {
		return nil, nil, false, nil
	}
	return []byte(k), m.vals[k], true, nil
}

func (m *MemStore) next(prefix, after []byte) (string, bool) {
	start := string(prefix)
	if after != nil && string(after) >= start {
		start = string(after) + "\x00" // the smallest key greater than after
	}
	i, _ := slices.BinarySearch(m.keys, start)
	if i < len(m.keys) && strings.HasPrefix(m.keys[i], string(prefix)) {
		return m.keys[i], true
	}
	return "", false
}

// overlay buffers one call's writes over the contract's Store, so a call
// that reverts, traps or runs out of gas changes nothing.
type overlay struct {
	base    Store
	writes  MemStore
	deleted map[string]bool
}

func newOverlay(base Store) *overlay {
	return &overlay{base: base, writes: MemStore{vals: map[string][]byte{}}, deleted: map[string]bool{}}
}

func (o *overlay) Get(key []byte) ([]byte, bool, error) {
	if o.deleted[string(key)] {
		return nil, false, nil
	}
	if v, ok, _ := o.writes.Get(key); ok {
		return v, true, nil
	}
	return o.base.Get(key)
}

func (o *overlay) Set(key, value []byte) error {
	delete(o.deleted, string(key))
	return o.writes.Set(key, value)
}

func (o *overlay) Delete(key []byte) error {
	o.deleted[string(key)] = true
	return o.writes.Delete(key)
}

// Next merges the buffered writes with the base, skipping deleted keys.
func (o *overlay) Next(prefix, after []byte) ([]byte, []byte, bool, error) {
	bk, bv, bok, err := o.baseNext(prefix, after)
	if err != nil {
		return nil, nil, false, err
	}
	wk, wv, wok, _ := o.writes.Next(prefix, after)
	switch {
	case !bok && !wok:
		return nil, nil, false, nil
	case !bok || (wok && bytes.Compare(wk, bk) <= 0):
		return wk, wv, true, nil
	default:
		return bk, bv, true, nil
	}
}

func (o *overlay) baseNext(prefix, after []byte) ([]byte, []byte, bool, error) {
	for {
		k, v, ok, err := o.base.Next(prefix, after)
		if err != nil || !ok || !o.deleted[string(k)] {
			return k, v, ok, err
		}
		after = k
	}
}

// commit applies the buffered writes to the base in key order.
func (o *overlay) commit() error {
	dels := make([]string, 0, len(o.deleted))
	for k := range o.deleted {
		dels = append(dels, k)
	}
	slices.Sort(dels)
	for _, k := range dels {
		if err := o.base.Delete([]byte(k)); err != nil {
			return err
		}
	}
	for _, k := range o.writes.keys {
		if err := o.base.Set([]byte(k), o.writes.vals[k]); err != nil {
			return err
		}
	}
	return nil
}
