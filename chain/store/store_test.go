package store

import (
	"bytes"
	"testing"

	"github.com/phala-go/phala/chain/state"
)

var testItem = state.NewKeyFormat(0x7f, 0x01)

func TestCommitReopenIterate(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	block := state.NewOverlay(s)
	k1, k2 := testItem.Key([]byte("a")), testItem.Key([]byte("b"))
	block.Set(k1, []byte("1"))

	failed := block.Branch()
	failed.Set(k2, []byte("2"))
	// not merged: a failed transaction leaves no trace
	if v, _ := block.Get(k2); v != nil {
		t.Fatal("unmerged branch leaked")
	}
	ok := block.Branch()
	ok.Set(k2, []byte("2"))
	ok.Delete(k1)
	ok.Merge()

	changes := block.Changes()
	if len(changes) != 2 || changes[0].Value != nil || !bytes.Equal(changes[1].Value, []byte("2")) {
		t.Fatalf("changes = %+v", changes)
	}
	if err := s.Commit(changes, Meta{Height: 5, AppHash: []byte{9}}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, _ := s.Meta()
	if m.Height != 5 || !bytes.Equal(m.AppHash, []byte{9}) {
		t.Fatalf("meta = %+v", m)
	}
	var seen []string
	s.Iterate(testItem.Prefix(), func(k, v []byte) error {
		seen = append(seen, string(k[2:])+"="+string(v))
		return nil
	})
	if len(seen) != 1 || seen[0] != "b=2" {
		t.Fatalf("iterate = %v", seen)
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff}, nil},
	}
	for _, tc := range tests {
		if got := prefixEnd(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("prefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}
