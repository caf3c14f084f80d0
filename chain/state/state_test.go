package state

import (
	"bytes"
	"testing"
)

var testItem = NewKeyFormat(0x7f, 0x01)

// mapReader is committed state in memory.
type mapReader map[string][]byte

func (m mapReader) Get(key []byte) ([]byte, error) { return m[string(key)], nil }

func TestOverlayBranchAndMerge(t *testing.T) {
	k1, k2 := testItem.Key([]byte("a")), testItem.Key([]byte("b"))
	block := NewOverlay(mapReader{string(k1): []byte("0")})
	block.Set(k1, []byte("1"))

	failed := block.Branch()
	failed.Set(k2, []byte("2"))
	if v, _ := failed.Get(k1); !bytes.Equal(v, []byte("1")) {
		t.Fatalf("branch reads %q through its parent, want 1", v)
	}
	// not merged: a failed transaction leaves no trace
	if v, _ := block.Get(k2); v != nil {
		t.Fatal("unmerged branch leaked")
	}
	ok := block.Branch()
	ok.Set(k2, []byte("2"))
	ok.Delete(k1)
	ok.Merge()
	if v, _ := block.Get(k1); v != nil {
		t.Fatalf("deleted key reads %q", v)
	}
	changes := block.Changes()
	if len(changes) != 2 || changes[0].Value != nil || !bytes.Equal(changes[1].Value, []byte("2")) {
		t.Fatalf("changes = %+v", changes)
	}
}
