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
	k1, k2 := testItem.Key([]byte("a")), testItem.Key([]byte("b"))
	if err := s.Commit([]state.Change{{Key: k1, Value: []byte("1")}}, Meta{Height: 4}, nil); err != nil {
		t.Fatal(err)
	}
	// A deletion and a write, as an overlay's change list carries them.
	changes := []state.Change{{Key: k1}, {Key: k2, Value: []byte("2")}}
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
