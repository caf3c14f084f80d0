package pagefile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/phala-go/phala/worker/enclave/pagefile"
	"github.com/phala-go/phala/worker/enclave/statetree"
)

func TestStore(t *testing.T) {
	d, err := pagefile.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := d.Store("c0ffee")
	id := statetree.PageID{0xab, 1}
	if _, err := s.Get(id); !errors.Is(err, statetree.ErrNotFound) {
		t.Fatalf("get of an absent page: %v", err)
	}
	if err := s.List(func(statetree.PageID) { t.Fatal("a page in an empty store") }); err != nil {
		t.Fatal(err)
	}
	for i, blob := range [][]byte{[]byte("one"), []byte("two")} {
		if fresh, err := s.Put(id, blob); err != nil || fresh != (i == 0) {
			t.Fatalf("put %d: fresh %v, %v", i, fresh, err)
		}
		if got, err := s.Get(id); err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("get %q %v, want %q", got, err, blob)
		}
	}
	// A crash's temporary file and a stranger's file: not pages.
	sub := filepath.Join(d.Path(), "c0ffee", "ab")
	for _, name := range []string{id.String() + ".tmp-123", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(sub, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var ids []statetree.PageID
	if err := s.List(func(id statetree.PageID) { ids = append(ids, id) }); err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("list %v %v", ids, err)
	}
	if _, err := os.Stat(filepath.Join(sub, id.String()+".tmp-123")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a stale temporary file survived a listing")
	}
	if err := s.Delete(id); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(id); err != nil {
		t.Fatalf("deleting an absent page: %v", err)
	}
	// The deleted page's file waits in the pool (it survives reopening)
	// and the next page is written into it.
	free := filepath.Join(d.Path(), ".free")
	if n := len(pageFilesIn(t, free)); n != 1 {
		t.Fatalf("%d files in the pool after a delete", n)
	}
	if d, err = pagefile.Open(d.Path()); err != nil {
		t.Fatal(err)
	}
	s = d.Store("c0ffee")
	other := statetree.PageID{0xcd, 2}
	if fresh, err := s.Put(other, []byte("three")); err != nil || !fresh {
		t.Fatalf("put into a pooled file: %v %v", fresh, err)
	}
	if got, err := s.Get(other); err != nil || string(got) != "three" || len(pageFilesIn(t, free)) != 0 {
		t.Fatalf("get %q %v, pool %d", got, err, len(pageFilesIn(t, free)))
	}
	if _, err := s.Get(id); !errors.Is(err, statetree.ErrNotFound) {
		t.Fatalf("a deleted page reads: %v", err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	// A name that is not an id never becomes a path outside the directory.
	if _, err := d.Store("../escape").Put(id, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(d.Path()), "escape")); err == nil {
		t.Fatal("a store name escaped the directory")
	}
	// A huge file is read only as far as MaxBlob (and then fails to
	// authenticate in the tree).
	if err := os.WriteFile(filepath.Join(sub, id.String()), make([]byte, pagefile.MaxBlob+100), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(id); err != nil || len(got) != pagefile.MaxBlob+1 {
		t.Fatalf("read %d bytes of a huge page: %v", len(got), err)
	}
}

var keys = statetree.Keys{MAC: [32]byte{1}, Encryption: [32]byte{2}}

func open(t testing.TB, s statetree.PageStore, root statetree.PageID, cache *statetree.Cache) *statetree.Tree {
	t.Helper()
	tr, err := statetree.Open(statetree.Config{Pages: s, Keys: keys, Cache: cache, Name: "c0ffee"}, root)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func commit(t testing.TB, tr *statetree.Tree) statetree.PageID {
	t.Helper()
	id, err := tr.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func pageFiles(t testing.TB, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() && e.Name() == ".free" {
			return filepath.SkipDir // the pool of files to reuse
		}
		if err == nil && !e.IsDir() {
			out[p] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pageFilesIn(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestTamperDetected: a host that edits, swaps, rolls back or deletes a
// page file of the current version is caught on the next read through
// the root (a fresh tree: nothing cached), with an error naming the page.
func TestTamperDetected(t *testing.T) {
	d, err := pagefile.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := d.Store("c0ffee")
	tr := open(t, s, statetree.PageID{}, nil)
	for i := range 3000 { // three levels
		if err := tr.Set(fmt.Appendf(nil, "acct/%05d", i), bytes.Repeat([]byte{byte(i)}, 60)); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, tr)
	tr.Checkpointed() // v1 is kept: its pages stay beside v2's
	v1 := pageFiles(t, d.Path())
	key := []byte("acct/01234")
	if err := tr.Set(key, []byte("new balance")); err != nil {
		t.Fatal(err)
	}
	root := commit(t, tr)
	v2 := pageFiles(t, d.Path())
	var changed, old []string // the path to key in v2, and in v1
	for p := range v2 {
		if !v1[p] {
			changed = append(changed, p)
		}
	}
	for p := range v1 {
		if !v2[p] {
			t.Fatalf("a page of v1 disappeared: %s", p)
		}
	}
	// The pages of v1 that v2 replaced: read by the old root's path.
	for p := range v1 {
		old = append(old, p)
	}
	slices.Sort(changed)
	if len(changed) < 3 {
		t.Fatalf("a change to a three-level tree wrote %d pages", len(changed))
	}
	other := ""
	for p := range v1 {
		other = p
		break
	}
	read := func() error {
		_, _, err := open(t, s, root, nil).Get(key)
		return err
	}
	if err := read(); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	for _, p := range changed {
		name := filepath.Base(p)
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		restore := func() {
			if err := os.WriteFile(p, orig, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name   string
			tamper func() error
			want   error
		}{
			{"edited", func() error {
				b := bytes.Clone(orig)
				b[len(b)/2] ^= 1
				return os.WriteFile(p, b, 0o600)
			}, statetree.ErrTampered},
			{"swapped", func() error {
				b, err := os.ReadFile(other)
				if err == nil {
					err = os.WriteFile(p, b, 0o600)
				}
				return err
			}, statetree.ErrTampered},
			{"truncated", func() error { return os.WriteFile(p, orig[:len(orig)-1], 0o600) }, statetree.ErrTampered},
			{"deleted", func() error { return os.Remove(p) }, statetree.ErrMissing},
		}
		for _, c := range cases {
			t.Run(c.name+"/"+name[:8], func(t *testing.T) {
				defer restore()
				if err := c.tamper(); err != nil {
					t.Fatal(err)
				}
				err := read()
				if !errors.Is(err, c.want) || !strings.Contains(err.Error(), name) {
					t.Fatalf("read after the page was %s: %v, want %v naming %s", c.name, err, c.want, name)
				}
			})
		}
		// Rolled back: the page's file holds an older version of a page
		// (one of v1, among them the same node before the change).
		t.Run("rolled back/"+name[:8], func(t *testing.T) {
			defer restore()
			for _, o := range old {
				b, err := os.ReadFile(o)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := read(); !errors.Is(err, statetree.ErrTampered) || !strings.Contains(err.Error(), name) {
					t.Fatalf("page %s rolled back to %s: %v", name, filepath.Base(o), err)
				}
			}
		})
	}
	// The whole directory rolled back to v1 under the v2 root: v2's new
	// pages are missing.
	for _, p := range changed {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := read(); !errors.Is(err, statetree.ErrMissing) {
		t.Fatalf("a directory older than the root: %v", err)
	}
	// A tree that met tampering stays stopped: no later read or write
	// runs over state it could not check.
	stopped := open(t, s, root, nil)
	if _, _, err := stopped.Get(key); err == nil {
		t.Fatal("read a missing page")
	}
	if err := stopped.Set([]byte("acct/00000"), nil); !errors.Is(err, statetree.ErrMissing) {
		t.Fatalf("a stopped tree took a write: %v", err)
	}
}

// TestMemoryBoundedByCache stores 200,000 entries (some 45 MB of state)
// in blocks, then reads them all back: the heap after a collection stays
// near the cache's budget, far under what the same entries take in a
// vm.MemStore (measured in the same run).
func TestMemoryBoundedByCache(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 45 MB of pages")
	}
	const n, cacheBytes = 200_000, 4 << 20
	d, err := pagefile.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) []byte { return fmt.Appendf(nil, "acct/%08d", i) }
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 100) }
	base := heap()
	cache := statetree.NewCache(cacheBytes)
	tr := open(t, d.Store("c0ffee"), statetree.PageID{}, cache)
	for i := range n {
		if err := tr.Set(key(i), value(i)); err != nil {
			t.Fatal(err)
		}
		if i%2000 == 1999 {
			commit(t, tr)
		}
	}
	root := commit(t, tr)
	afterWrite := heap() - base
	tr = open(t, d.Store("c0ffee"), root, cache)
	for i := 0; i < n; i += 7 {
		v, ok, err := tr.Get(key(i * 7919 % n))
		if err != nil || !ok || !bytes.Equal(v, value(i*7919%n)) {
			t.Fatalf("entry %d: %v %v", i, ok, err)
		}
	}
	afterRead := heap() - base
	runtime.KeepAlive(tr)
	tr = nil

	mem := newMemModel(n, key, value)
	inMemory := heap() - base
	runtime.KeepAlive(mem)
	t.Logf("state %d entries: heap +%.1f MiB after writing, +%.1f MiB after reading (cache %d MiB, holding %.1f); the same in a vm.MemStore: +%.1f MiB",
		n, mib(afterWrite), mib(afterRead), cacheBytes>>20, mib(int64(cache.Used())), mib(inMemory))
	if limit := int64(3*cacheBytes + 8<<20); afterWrite > limit || afterRead > limit {
		t.Fatalf("heap grew by %d / %d bytes, over %d", afterWrite, afterRead, limit)
	}
	if inMemory < 3*max(afterWrite, afterRead) {
		t.Fatalf("the memory store (+%d) is not far above the tree (+%d, +%d): the test measures nothing", inMemory, afterWrite, afterRead)
	}
}

func heap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// TestNoPlaintextOnDisk: neither keys nor values appear in the page files
// (nor does a page's plaintext framing leak them in pieces: a long marked
// value would show at least in part).
func TestNoPlaintextOnDisk(t *testing.T) {
	d, err := pagefile.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := open(t, d.Store("c0ffee"), statetree.PageID{}, nil)
	for i := range 500 {
		k := fmt.Appendf(nil, "secret-key-%03d-MARK", i)
		if err := tr.Set(k, fmt.Appendf(nil, "secret-value-%03d-MARK-%s", i, strings.Repeat("v", 40))); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, tr)
	for p := range pageFiles(t, d.Path()) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, mark := range []string{"MARK", "secret", "vvvvvvvv"} {
			if bytes.Contains(b, []byte(mark)) {
				t.Fatalf("%q in page file %s", mark, p)
			}
		}
	}
}
