package sdk

import (
	"encoding/binary"
	"encoding/json"
)

// Get reads a raw key of the contract's private storage.
func Get(key []byte) ([]byte, bool) {
	return register(hostStorageGet(ptr(key)))
}

// Set writes a raw key.
func Set(key, value []byte) {
	kp, kl := ptr(key)
	vp, vl := ptr(value)
	hostStorageSet(kp, kl, vp, vl)
}

// Delete removes a raw key.
func Delete(key []byte) { hostStorageDelete(ptr(key)) }

// Scan visits the keys with prefix in ascending order until fn returns false.
func Scan(prefix []byte, fn func(key, value []byte) bool) {
	var after []byte
	for {
		pp, pl := ptr(prefix)
		ap, al := ptr(after)
		entry, ok := register(hostStorageNext(pp, pl, ap, al))
		if !ok || len(entry) < 4 {
			return
		}
		n := binary.LittleEndian.Uint32(entry)
		k, v := entry[4:4+n], entry[4+n:]
		if !fn(k, v) {
			return
		}
		after = k
	}
}

// Map is a typed map in storage: keys are strings (byte strings such as
// addresses work too) under the map's name, values are JSON.
type Map[V any] struct{ prefix string }

// NewMap returns the map called name. Names must not be prefixes of one
// another's "name/" form; "/" separates the name from the key.
func NewMap[V any](name string) Map[V] { return Map[V]{prefix: name + "/"} }

func (m Map[V]) key(k string) []byte { return []byte(m.prefix + k) }

// Get returns the value at k and whether it exists.
func (m Map[V]) Get(k string) (V, bool, error) {
	var v V
	raw, ok := Get(m.key(k))
	if !ok {
		return v, false, nil
	}
	return v, true, json.Unmarshal(raw, &v)
}

// Set stores v at k.
func (m Map[V]) Set(k string, v V) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	Set(m.key(k), raw)
	return nil
}

// Delete removes k.
func (m Map[V]) Delete(k string) { Delete(m.key(k)) }

// Each visits the map in key order until fn returns false.
func (m Map[V]) Each(fn func(k string, v V) bool) error {
	var err error
	Scan([]byte(m.prefix), func(key, raw []byte) bool {
		var v V
		if err = json.Unmarshal(raw, &v); err != nil {
			return false
		}
		return fn(string(key[len(m.prefix):]), v)
	})
	return err
}

// Cell is a single typed value in storage. (The type was called Value
// until sdk.Value came to mean the command's value; NewValue keeps its
// name.)
type Cell[V any] struct{ key []byte }

// NewValue returns the cell called name.
func NewValue[V any](name string) Cell[V] { return Cell[V]{key: []byte(name)} }

// Get returns the value and whether it was set.
func (c Cell[V]) Get() (V, bool, error) {
	var v V
	raw, ok := Get(c.key)
	if !ok {
		return v, false, nil
	}
	return v, true, json.Unmarshal(raw, &v)
}

// Set stores v.
func (c Cell[V]) Set(v V) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	Set(c.key, raw)
	return nil
}
