package state

import (
	"fmt"
	"sync"
)

// Module store identifiers: the first byte of every key. Each chain module
// owns one and declares its items under it.
const (
	ModuleMeta     byte = 0x00 // the application's own bookkeeping
	ModuleBank     byte = 0x01
	ModuleRegistry byte = 0x02
	ModuleMQ       byte = 0x03
	ModuleContract byte = 0x04
	ModuleKeys     byte = 0x05
	ModuleCompute  byte = 0x06
	ModulePools    byte = 0x07
	ModuleGov      byte = 0x08
)

// KeyFormat is one kind of stored item: a module byte, an item byte, then
// the item's own key parts. Logic builds keys only through KeyFormats.
type KeyFormat struct{ module, item byte }

var (
	formatsMu sync.Mutex
	formats   = map[[2]byte]bool{}
)

// NewKeyFormat declares an item kind at package init; declaring the same pair
// twice is a programming error caught at start.
func NewKeyFormat(module, item byte) KeyFormat {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	id := [2]byte{module, item}
	if formats[id] {
		panic(fmt.Sprintf("state: key format %#x/%#x declared twice", module, item))
	}
	formats[id] = true
	return KeyFormat{module: module, item: item}
}

// Key joins the format's prefix with the parts. Parts must be fixed-size or
// the last part, so that keys cannot be ambiguous.
func (k KeyFormat) Key(parts ...[]byte) []byte {
	n := 2
	for _, p := range parts {
		n += len(p)
	}
	key := make([]byte, 0, n)
	key = append(key, k.module, k.item)
	for _, p := range parts {
		key = append(key, p...)
	}
	return key
}

// Prefix is the common prefix of every key of this format.
func (k KeyFormat) Prefix() []byte { return []byte{k.module, k.item} }
