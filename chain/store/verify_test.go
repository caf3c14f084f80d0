package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/phala-go/phala/chain/state"
)

// TestVerifyTreeFindsEdits: an honest store verifies; an edit to a leaf of
// the tree or to the read index, each leaving every checksum valid, is
// found and named. (An edit to the root itself changes the root, which the
// application's start-up check compares with the committed app hash.)
func TestVerifyTreeFindsEdits(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit byte // the tree's key space to edit: 's' nodes, 'f' the read index; 0 none
		want string
	}{
		{"honest", 0, ""},
		{"tree leaf edited", 's', "hashes to root"},
		{"read index edited", 'f', "read index disagrees"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			var changes []state.Change
			for i := range 50 {
				changes = append(changes, set(fmt.Sprint("key", i), fmt.Sprint("value", i)))
			}
			commit(t, s, 0, changes...)
			commit(t, s, 1, set("key7", "changed"))
			s.Close()
			if tc.edit != 0 {
				flipLastByte(t, dir, tc.edit)
			}
			if s, err = Open(dir); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r, err := s.VerifyTree(context.Background())
			if tc.want == "" {
				if err != nil || r.Keys != 50 || r.Height != 1 {
					t.Fatalf("honest store: %+v, %v", r, err)
				}
				return
			}
			if !errors.Is(err, ErrDamaged) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("err = %v, want damage saying %q", err, tc.want)
			}
		})
	}
}

// flipLastByte changes the last byte (the end of a value) of the newest
// leaf record in one of the tree's key spaces, as a hand edit of the
// database would. A tree node record starts with its height: 0 for leaves.
func flipLastByte(t *testing.T, dir string, space byte) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prefix := []byte{TreePrefix, space}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var key, value []byte
	for ok := it.First(); ok; ok = it.Next() {
		if space == 'f' || it.Value()[0] == 0 {
			key, value = bytes.Clone(it.Key()), bytes.Clone(it.Value())
		}
	}
	it.Close()
	if key == nil {
		t.Fatalf("nothing under %q to edit", space)
	}
	value[len(value)-1] ^= 1
	if err := db.Set(key, value, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}
