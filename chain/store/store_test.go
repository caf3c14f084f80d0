package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

var testItem = state.NewKeyFormat(0x7f, 0x01)

// commit stages changes and commits them as height.
func commit(t *testing.T, s *Store, height int64, changes ...state.Change) []byte {
	t.Helper()
	root, err := s.Stage(changes)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(Meta{Height: height, AppHash: root}, nil); err != nil {
		t.Fatal(err)
	}
	return root
}

func set(k, v string) state.Change {
	return state.Change{Key: testItem.Key([]byte(k)), Value: []byte(v)}
}
func del(k string) state.Change { return state.Change{Key: testItem.Key([]byte(k))} }

func TestCommitReopenIterate(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, 0, set("a", "1"))
	// A deletion and a write, as an overlay's change list carries them.
	root := commit(t, s, 1, del("a"), set("b", "2"))
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, _ := s.Meta()
	if m.Height != 1 || !bytes.Equal(m.AppHash, root) || !bytes.Equal(s.StateRoot(), root) {
		t.Fatalf("meta = %+v, root %x, want height 1 and root %x", m, s.StateRoot(), root)
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

// TestStagedIsInvisible: reads see the committed state until Commit, and a
// second Stage replaces the first.
func TestStagedIsInvisible(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commit(t, s, 0, set("a", "1"))
	if _, err := s.Stage([]state.Change{set("a", "2"), set("x", "9")}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(testItem.Key([]byte("a"))); string(v) != "1" {
		t.Fatalf("staged write visible: a = %q", v)
	}
	want := commit(t, s, 1, set("a", "3"))
	if v, _ := s.Get(testItem.Key([]byte("x"))); v != nil {
		t.Fatalf("first staging survived the second: x = %q", v)
	}
	if v, _ := s.Get(testItem.Key([]byte("a"))); string(v) != "3" || !bytes.Equal(s.StateRoot(), want) {
		t.Fatalf("a = %q, root %x want %x", v, s.StateRoot(), want)
	}
}

// TestTreeAheadOfMetaRollsBack: a crash after the tree saved a version but
// before the meta recorded it leaves the tree one version ahead; opening
// drops that version, so the block is replayed onto the state it started
// from.
func TestTreeAheadOfMetaRollsBack(t *testing.T) {
	for _, tc := range []struct {
		name      string
		committed int64 // heights committed in full before the crash (-1: none)
	}{{"after genesis", 0}, {"before genesis", -1}, {"later block", 5}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			var root []byte
			for h := int64(0); h <= tc.committed; h++ {
				root = commit(t, s, h, set("a", fmt.Sprint(h)))
			}
			if _, err := s.Stage([]state.Change{set("a", "crash")}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.tree.SaveVersion(); err != nil { // the tree, not the meta
				t.Fatal(err)
			}
			s.Close()
			if s, err = Open(dir); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			v, _ := s.Get(testItem.Key([]byte("a")))
			if tc.committed < 0 {
				if v != nil || s.tree.Version() != 0 {
					t.Fatalf("a = %q at tree version %d, want an empty store", v, s.tree.Version())
				}
				return
			}
			if string(v) != fmt.Sprint(tc.committed) || !bytes.Equal(s.StateRoot(), root) {
				t.Fatalf("a = %q, root %x; want the state of height %d", v, s.StateRoot(), tc.committed)
			}
			commit(t, s, tc.committed+1, set("a", "replayed"))
		})
	}
}

// TestPruneKeepsRecentAndPinned: heights older than the window lose their
// proofs, unless an export pinned them first (IAVL drops versions only
// from the oldest up, so a pin keeps every height after it too).
func TestPruneKeepsRecentAndPinned(t *testing.T) {
	s, err := OpenWith(t.TempDir(), Options{KeepRecent: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for h := int64(0); h <= 6; h++ {
		commit(t, s, h, set("a", fmt.Sprint(h)))
	}
	release, err := s.Pin(6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pin(2); err == nil {
		t.Fatal("pinned a pruned height")
	}
	for h := int64(7); h <= 10; h++ {
		commit(t, s, h, set("a", fmt.Sprint(h)))
	}
	key := testItem.Key([]byte("a"))
	for _, tc := range []struct {
		height int64
		want   string // "" when pruned
	}{{0, ""}, {5, ""}, {6, "6"}, {7, "7"}, {10, "10"}} {
		v, p, err := s.Proof(tc.height, key)
		if tc.want == "" {
			if err == nil {
				t.Errorf("height %d: proof given, want pruned", tc.height)
			}
			continue
		}
		if err != nil || string(v) != tc.want || p == nil {
			t.Errorf("height %d: %q, %v; want %q with a proof", tc.height, v, err, tc.want)
		}
	}
	release()
	commit(t, s, 11, set("a", "11"))
	if _, _, err := s.Proof(7, key); err == nil {
		t.Fatal("height 7 still provable after the pin was released")
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

// TestOldFormatSaysSo: a store with a committed meta but no tree (written
// before the state tree existed) is refused with what to do, not called
// damaged.
func TestOldFormatSaysSo(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// What the old layout left: a meta record and plain keys.
	if err := s.db.Set(metaKey, codec.MustMarshal(Meta{Height: 7, AppHash: make([]byte, 32)}), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrOldFormat) || errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "older phala") {
		t.Fatalf("err = %v, want the old-format refusal", err)
	}
}
