package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/phala-go/phala/chain/state"
)

// exportAll exports height of s into a node list.
func exportAll(t *testing.T, s *Store, height int64) ([]Node, []byte) {
	t.Helper()
	exp, err := s.OpenExport(height)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	var nodes []Node
	if err := exp.Each(context.Background(), func(n Node) error { nodes = append(nodes, n); return nil }); err != nil {
		t.Fatal(err)
	}
	return nodes, exp.Root()
}

// chainStore builds a store with a few heights of writes, deletions and
// block hashes, as blocks leave them.
func chainStore(t *testing.T, heights int64) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	commit(t, s, 0, set("genesis", "g"))
	for h := int64(1); h <= heights; h++ {
		o := state.NewOverlay(s)
		for i := range 20 {
			o.Set(testItem.Key(fmt.Appendf(nil, "k%d-%d", h%7, i)), fmt.Appendf(nil, "v%d", h))
		}
		o.Set(testItem.Key([]byte("empty")), []byte{})
		o.Delete(testItem.Key(fmt.Appendf(nil, "k%d-3", (h+3)%7)))
		RecordBlockHash(o, h, bytes.Repeat([]byte{byte(h)}, 32))
		root, err := s.Stage(o.Changes())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(Meta{Height: h, AppHash: root, BlockHash: bytes.Repeat([]byte{byte(h)}, 32)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestExportImportRoundTrip(t *testing.T) {
	src := chainStore(t, 12)
	for _, height := range []int64{5, 12} {
		t.Run(fmt.Sprint(height), func(t *testing.T) {
			nodes, root := exportAll(t, src, height)
			dst, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			r, err := dst.BeginRestore(height)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				if err := r.Add(n); err != nil {
					t.Fatal(err)
				}
			}
			meta, err := r.Finish(root, Meta{Height: height, AppHash: []byte("app"), Time: 42})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dst.StateRoot(), root) {
				t.Fatalf("root %X, want %X", dst.StateRoot(), root)
			}
			if want := bytes.Repeat([]byte{byte(height)}, 32); !bytes.Equal(meta.BlockHash, want) {
				t.Fatalf("block hash %X, want %X", meta.BlockHash, want)
			}
			if got, _ := dst.Meta(); got.Height != height || got.Time != 42 || !bytes.Equal(got.AppHash, []byte("app")) {
				t.Fatalf("meta %+v", got)
			}
			// Every value reads the same, and the store goes on committing.
			want, err := src.GetAt(height, testItem.Key([]byte("empty")))
			if err != nil {
				t.Fatal(err)
			}
			got, err := dst.Get(testItem.Key([]byte("empty")))
			if err != nil || !bytes.Equal(got, want) || got == nil {
				t.Fatalf("empty value %q (%v), want %q", got, err, want)
			}
			commit(t, dst, height+1, set("after", "x"))
			// And a second restore into it is refused.
			if _, err := dst.BeginRestore(height); !errors.Is(err, ErrNotEmpty) {
				t.Fatalf("restore into a full store: %v", err)
			}
		})
	}
}

// A tree that does not hash to the promised root is refused and wiped, so
// another snapshot can be restored into the same store.
func TestRestoreRootMismatchWipes(t *testing.T) {
	src := chainStore(t, 4)
	nodes, root := exportAll(t, src, 4)
	dst, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	forged := bytes.Clone(root)
	forged[0] ^= 1
	restore := func(want []byte, edit func([]Node) []Node) error {
		r, err := dst.BeginRestore(4)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range edit(append([]Node{}, nodes...)) {
			if err := r.Add(n); err != nil {
				return errors.Join(err, r.Abort())
			}
		}
		_, err = r.Finish(want, Meta{Height: 4, AppHash: []byte("a")})
		return err
	}
	same := func(n []Node) []Node { return n }
	cases := []struct {
		name string
		root []byte
		edit func([]Node) []Node
	}{
		{"wrong root", forged, same},
		{"altered value", root, func(n []Node) []Node {
			for i := range n {
				if n[i].Height == 0 {
					n[i].Value = []byte("forged")
					break
				}
			}
			return n
		}},
		{"truncated", root, func(n []Node) []Node { return n[:len(n)-1] }},
		{"bad version", root, func(n []Node) []Node { n[0].Version = -1; return n }},
		{"future version", root, func(n []Node) []Node { n[0].Version = 99; return n }},
		{"inner as leaf", root, func(n []Node) []Node { n[len(n)-1].Height = 0; return n }},
	}
	for _, c := range cases {
		if err := restore(c.root, c.edit); err == nil {
			t.Fatalf("%s: restore accepted", c.name)
		}
		if m, _ := dst.Meta(); m.AppHash != nil || dst.tree.Version() != 0 {
			t.Fatalf("%s: store not wiped: meta %+v, tree version %d", c.name, m, dst.tree.Version())
		}
	}
	if err := restore(root, same); err != nil {
		t.Fatalf("honest restore after refusals: %v", err)
	}
}
