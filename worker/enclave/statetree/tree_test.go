package statetree

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/phala-go/phala/vm"
)

func TestOperations(t *testing.T) {
	type op struct {
		kind        string // set, del, get, next
		key, val    string
		prefix      string
		after       *string
		wantKey     string
		wantVal     string
		wantMissing bool
	}
	s := func(x string) *string { return &x }
	ops := []op{
		{kind: "get", key: "a", wantMissing: true},
		{kind: "next", prefix: "", wantMissing: true},
		{kind: "set", key: "b", val: "2"},
		{kind: "set", key: "a", val: "1"},
		{kind: "set", key: "ab", val: "12"},
		{kind: "set", key: "c", val: ""},
		{kind: "set", key: "", val: "empty key"},
		{kind: "get", key: "a", wantVal: "1"},
		{kind: "get", key: "c", wantVal: ""},
		{kind: "get", key: "", wantVal: "empty key"},
		{kind: "get", key: "aa", wantMissing: true},
		{kind: "next", prefix: "", wantKey: "", wantVal: "empty key"},
		{kind: "next", prefix: "", after: s(""), wantKey: "a", wantVal: "1"},
		{kind: "next", prefix: "a", wantKey: "a", wantVal: "1"},
		{kind: "next", prefix: "a", after: s("a"), wantKey: "ab", wantVal: "12"},
		{kind: "next", prefix: "a", after: s("ab"), wantMissing: true},
		{kind: "next", prefix: "a", after: s("0"), wantKey: "a", wantVal: "1"}, // after before the prefix: from the prefix
		{kind: "next", prefix: "b", after: s("a"), wantKey: "b", wantVal: "2"},
		{kind: "next", prefix: "d", wantMissing: true},
		{kind: "set", key: "a", val: "one"},
		{kind: "get", key: "a", wantVal: "one"},
		{kind: "del", key: "a"},
		{kind: "del", key: "zz"}, // absent: nothing
		{kind: "get", key: "a", wantMissing: true},
		{kind: "next", prefix: "a", wantKey: "ab", wantVal: "12"},
	}
	tr := openTree(t, newMemPages(), testKeys(1), PageID{})
	for i, o := range ops {
		t.Run(fmt.Sprintf("%d-%s-%q", i, o.kind, o.key+o.prefix), func(t *testing.T) {
			switch o.kind {
			case "set":
				if err := tr.Set([]byte(o.key), []byte(o.val)); err != nil {
					t.Fatal(err)
				}
			case "del":
				if err := tr.Delete([]byte(o.key)); err != nil {
					t.Fatal(err)
				}
			case "get":
				v, ok, err := tr.Get([]byte(o.key))
				if err != nil || ok == o.wantMissing || ok && string(v) != o.wantVal {
					t.Fatalf("get %q = %q %v %v", o.key, v, ok, err)
				}
			case "next":
				var after []byte
				if o.after != nil {
					after = []byte(*o.after)
				}
				k, v, ok, err := tr.Next([]byte(o.prefix), after)
				if err != nil || ok == o.wantMissing || ok && (string(k) != o.wantKey || string(v) != o.wantVal) {
					t.Fatalf("next(%q, %v) = %q %q %v %v", o.prefix, o.after, k, v, ok, err)
				}
			}
		})
		if i%5 == 4 {
			mustCommit(t, tr)
		}
	}
}

// TestManyKeys grows a tree of 20,000 keys over several levels, in
// blocks, then deletes most of them, checking its shape and contents
// against the model after every block and after reopening from the root.
func TestManyKeys(t *testing.T) {
	pages := newMemPages()
	tr := openTree(t, pages, testKeys(2), PageID{})
	model := vm.NewMemStore()
	rng := rand.New(rand.NewPCG(1, 2))
	perm := rng.Perm(20_000)
	value := func(i, gen int) []byte {
		return bytes.Repeat([]byte{byte(i), byte(gen)}, 1+i%40) // 2 to 80 bytes
	}
	for b := 0; b < len(perm); b += 1000 {
		for _, i := range perm[b : b+1000] {
			k := fmt.Appendf(nil, "acct/%08d", i)
			mustDo(t, tr.Set(k, value(i, 0)), model.Set(k, value(i, 0)))
		}
		mustCommit(t, tr)
		if b%5000 == 0 {
			sameEntries(t, checkShape(t, tr), model)
		}
	}
	root := mustCommit(t, tr)
	n := checkShape(t, tr)
	sameEntries(t, n, model)
	if lvl := tr.mustLevel(t); lvl < 2 {
		t.Fatalf("20,000 entries in a tree of level %d", lvl)
	}
	reopened := openTree(t, pages, testKeys(2), root)
	sameEntries(t, checkShape(t, reopened), model)
	for j, i := range perm {
		if j%10 == 0 {
			continue
		}
		k := fmt.Appendf(nil, "acct/%08d", i)
		mustDo(t, reopened.Delete(k), model.Delete(k))
		if j%3000 == 0 {
			mustCommit(t, reopened)
			sameEntries(t, checkShape(t, reopened), model)
		}
	}
	mustCommit(t, reopened)
	sameEntries(t, checkShape(t, reopened), model)
	for j := range 100 { // and everything
		mustDo(t, reopened.Delete(fmt.Appendf(nil, "acct/%08d", perm[j*10])), nil)
	}
	mustCommit(t, reopened)
	if got := checkShape(t, reopened); len(got) != 1900 {
		t.Fatalf("%d entries left", len(got))
	}
}

func (t *Tree) mustLevel(tb testing.TB) int {
	n, err := t.load(t.root, -1)
	if err != nil {
		tb.Fatal(err)
	}
	return int(n.level)
}

func mustDo(t testing.TB, errs ...error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func sameEntries(t testing.TB, got [][2][]byte, model *vm.MemStore) {
	t.Helper()
	if len(got) != model.Len() {
		t.Fatalf("%d entries, model %d", len(got), model.Len())
	}
	var after []byte
	for i, e := range got {
		k, v, ok, _ := model.Next(nil, after)
		if !ok || !bytes.Equal(k, e[0]) || !bytes.Equal(v, e[1]) {
			t.Fatalf("entry %d: %x=%x, model %x=%x", i, e[0], e[1], k, v)
		}
		after = k
	}
}

// TestDeterministicRoot: two trees in separate stores fed the same
// operations hold the same roots and byte-identical stores, whenever
// they commit; the root changes with every change and stays with a
// no-op; another key gives other roots for the same contents.
func TestDeterministicRoot(t *testing.T) {
	a, b, other := newMemPages(), newMemPages(), newMemPages()
	ta, tb, to := openTree(t, a, testKeys(3), PageID{}), openTree(t, b, testKeys(3), PageID{}), openTree(t, other, testKeys(4), PageID{})
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[PageID]bool{}
	prev := mustCommit(t, ta)
	mustCommit(t, tb)
	if to.mustCommitRoot(t) == prev {
		t.Fatal("two keys give one empty root")
	}
	for i := range 3000 {
		k := fmt.Appendf(nil, "k%04d", rng.IntN(800))
		v := fmt.Appendf(nil, "v%d", rng.IntN(5))
		del := rng.IntN(4) == 0
		for _, tr := range []*Tree{ta, tb, to} {
			if del {
				mustDo(t, tr.Delete(k))
			} else {
				mustDo(t, tr.Set(k, v))
			}
		}
		// ta commits every operation, tb every 50: the shape does not
		// depend on when pages are sealed.
		ra := mustCommit(t, ta)
		if i%50 == 49 {
			if rb := mustCommit(t, tb); rb != ra {
				t.Fatalf("after %d operations roots %s and %s", i+1, ra, rb)
			}
			if ro := mustCommit(t, to); ro == ra {
				t.Fatal("another key gives the same root")
			}
		}
		seen[ra] = true
		prev = ra
	}
	// Byte-identical stores: both hold every page of the last version, the
	// same bytes.
	live := map[PageID]bool{prev: true}
	if err := ta.mark(prev, live); err != nil {
		t.Fatal(err)
	}
	for id := range live {
		if ba, bb := a.m[id], b.m[id]; ba == nil || !bytes.Equal(ba, bb) {
			t.Fatalf("page %s differs between the two stores", id)
		}
	}
	// A no-op keeps the root; any change moves it.
	k, v, _, _ := ta.Next(nil, nil)
	mustDo(t, ta.Set(k, v))
	if mustCommit(t, ta) != prev {
		t.Fatal("setting the same value moved the root")
	}
	mustDo(t, ta.Delete([]byte("absent")))
	if mustCommit(t, ta) != prev {
		t.Fatal("deleting an absent key moved the root")
	}
	for _, change := range []func() error{
		func() error { return ta.Set(k, append(bytes.Clone(v), 0)) },
		func() error { return ta.Set([]byte("new key"), nil) },
		func() error { return ta.Delete(k) },
	} {
		mustDo(t, change())
		if r := mustCommit(t, ta); r == prev {
			t.Fatal("a change kept the root")
		} else {
			prev = r
		}
	}
}

func (t *Tree) mustCommitRoot(tb testing.TB) PageID { return mustCommit(tb, t) }

// TestSnapshotsAndSweep: a snapshot reads its version while the writer
// changes and commits (concurrently, under -race); a sweep keeps the
// committed root, retained roots and snapshots, and deletes the rest.
func TestSnapshotsAndSweep(t *testing.T) {
	pages := newMemPages()
	tr := openTree(t, pages, testKeys(5), PageID{})
	for i := range 2000 {
		mustDo(t, tr.Set(fmt.Appendf(nil, "k%05d", i), []byte("v0")))
	}
	v0 := mustCommit(t, tr)
	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	readErr := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < 2000; i += 4 {
				v, ok, err := snap.Get(fmt.Appendf(nil, "k%05d", i))
				if err != nil || !ok || string(v) != "v0" {
					readErr <- fmt.Errorf("snapshot read k%05d = %q %v %v", i, v, ok, err)
					return
				}
			}
		})
	}
	var roots []PageID
	for round := 1; round <= 3; round++ {
		for i := 0; i < 2000; i += 7 {
			mustDo(t, tr.Set(fmt.Appendf(nil, "k%05d", i), fmt.Appendf(nil, "v%d", round)))
		}
		roots = append(roots, mustCommit(t, tr))
	}
	wg.Wait()
	close(readErr)
	for err := range readErr {
		t.Fatal(err)
	}
	if err := snap.Set([]byte("x"), nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("a snapshot took a write: %v", err)
	}
	// Keep v0 (the snapshot) and the second version (a checkpoint's).
	if _, err := tr.Sweep(roots[1]); err != nil {
		t.Fatal(err)
	}
	for _, r := range []PageID{v0, roots[1], roots[2]} {
		checkShape(t, openTree(t, pages, testKeys(5), r))
	}
	snap.Release()
	n, err := tr.Sweep()
	if err != nil || n == 0 {
		t.Fatalf("swept %d: %v", n, err)
	}
	if got, want := pages.len(), reachable(t, tr, roots[2]); got != want {
		t.Fatalf("%d pages stored, the root reaches %d", got, want)
	}
	_, _, err = openTree(t, pages, testKeys(5), v0).Get([]byte("k00000"))
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("a swept version still reads: %v", err)
	}
	// A sweep needs the changes committed.
	mustDo(t, tr.Set([]byte("x"), nil))
	if _, err := tr.Sweep(); !errors.Is(err, ErrUsage) {
		t.Fatalf("sweep with changes pending: %v", err)
	}
}

// TestCacheBounded: the cache never holds more than its budget, and a
// tree over a store larger than the cache still reads everything.
func TestCacheBounded(t *testing.T) {
	pages := newMemPages()
	cache := NewCache(64 << 10)
	tr, err := Open(Config{Pages: pages, Keys: testKeys(6), Cache: cache}, PageID{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		mustDo(t, tr.Set(fmt.Appendf(nil, "k%05d", i), bytes.Repeat([]byte{1}, 100)))
		if i%500 == 0 {
			mustCommit(t, tr)
		}
	}
	mustCommit(t, tr)
	for i := range 5000 {
		if _, ok, err := tr.Get(fmt.Appendf(nil, "k%05d", i)); !ok || err != nil {
			t.Fatalf("k%05d: %v %v", i, ok, err)
		}
		if used := cache.Used(); used > 64<<10 {
			t.Fatalf("cache holds %d bytes", used)
		}
	}
}

func TestLargeValues(t *testing.T) {
	tr := openTree(t, newMemPages(), testKeys(7), PageID{})
	model := vm.NewMemStore()
	for i := range 40 {
		k := fmt.Appendf(nil, "big%02d", i)
		v := bytes.Repeat([]byte{byte(i)}, 1+(i*9973)%(256<<10))
		mustDo(t, tr.Set(k, v), model.Set(k, v))
		mustDo(t, tr.Set(fmt.Appendf(nil, "small%02d", i), []byte("s")), model.Set(fmt.Appendf(nil, "small%02d", i), []byte("s")))
	}
	mustCommit(t, tr)
	sameEntries(t, checkShape(t, tr), model)
	for i := range 40 {
		if i%3 == 0 {
			k := fmt.Appendf(nil, "big%02d", i)
			mustDo(t, tr.Delete(k), model.Delete(k))
		}
	}
	mustCommit(t, tr)
	sameEntries(t, checkShape(t, tr), model)
}
