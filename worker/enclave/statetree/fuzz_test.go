package statetree

import (
	"bytes"
	"testing"

	"github.com/phala-go/phala/vm"
)

// FuzzTreeAgainstMap runs a program of operations on a tree and on
// vm.MemStore (the store contracts had before, the model): every read
// must agree, and the tree must keep its shape across commits, reopening
// from its root and sweeps. Keys come from a small alphabet so that
// prefixes, neighbours and deletes of present keys are common; some
// values are large so that pages split and merge often.
func FuzzTreeAgainstMap(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add(bytes.Repeat([]byte{0, 200, 17, 1, 5, 33, 2, 9}, 40))
	f.Add(bytes.Repeat([]byte{0x40, 0xff, 3, 0x81, 7, 0x20}, 60))
	f.Fuzz(func(t *testing.T, prog []byte) {
		pages := newMemPages()
		tr := openTree(t, pages, testKeys(9), PageID{})
		model := vm.NewMemStore()
		var kept, prev PageID // the roots of the two newest checkpoints
		// A reopened tree does not know which pages it created since the
		// checkpoint (a restart): those wait for the next sweep.
		reopened := false
		for len(prog) >= 3 {
			op, a, b := prog[0], prog[1], prog[2]
			prog = prog[3:]
			key := fuzzKey(a)
			switch op % 8 {
			case 0, 1, 2: // set
				val := bytes.Repeat([]byte{b}, int(b)%7*int(b)%97+int(op>>3)*40)
				mustDo(t, tr.Set(key, val), model.Set(key, val))
			case 3: // delete
				mustDo(t, tr.Delete(key), model.Delete(key))
			case 4: // get
				v, ok, err := tr.Get(key)
				mv, mok, _ := model.Get(key)
				if err != nil || ok != mok || !bytes.Equal(v, mv) {
					t.Fatalf("get %x: %x %v %v, model %x %v", key, v, ok, err, mv, mok)
				}
			case 5: // next
				prefix := key[:int(b)%(len(key)+1)]
				var after []byte
				if op&0x80 != 0 {
					after = fuzzKey(b)
				}
				k, v, ok, err := tr.Next(prefix, after)
				mk, mv, mok, _ := model.Next(prefix, after)
				if err != nil || ok != mok || !bytes.Equal(k, mk) || !bytes.Equal(v, mv) {
					t.Fatalf("next(%x, %x): %x %v %v, model %x %v", prefix, after, k, ok, err, mk, mok)
				}
			case 6: // commit, and sometimes reopen from the root
				root := mustCommit(t, tr)
				checkStore(t, tr, pages, !reopened, root, kept, prev)
				if b%2 == 0 {
					tr = openTree(t, pages, testKeys(9), root)
					reopened = true
				}
			case 7: // a checkpoint: commit and sweep, keeping the one before
				root := mustCommit(t, tr)
				tr.Checkpointed()
				if _, err := tr.Sweep(kept); err != nil {
					t.Fatal(err)
				}
				prev, kept, reopened = kept, root, false
				checkStore(t, tr, pages, true, root, kept, prev)
			}
		}
		mustCommit(t, tr)
		sameEntries(t, checkShape(t, tr), model)
	})
}

// checkStore: the store holds the pages of the committed root and of the
// two newest checkpoints (exactly those, when exact), and both
// checkpoints read whole.
func checkStore(t *testing.T, tr *Tree, pages *memPages, exact bool, roots ...PageID) {
	t.Helper()
	live := map[PageID]bool{}
	for _, r := range roots {
		if r.IsZero() || live[r] {
			continue
		}
		live[r] = true
		if err := tr.mark(r, live); err != nil {
			t.Fatal(err)
		}
		checkShape(t, openTree(t, pages, testKeys(9), r))
	}
	for id := range live {
		if _, err := pages.Get(id); err != nil {
			t.Fatalf("a kept page is gone: %v", err)
		}
	}
	if exact && pages.len() != len(live) {
		t.Fatalf("the store holds %d pages, the kept versions reach %d", pages.len(), len(live))
	}
}

// fuzzKey maps a byte to one of 64 keys sharing prefixes: "", "a", "ab",
// long keys (up to a kilobyte, the VM's limit) and their neighbours.
func fuzzKey(b byte) []byte {
	base := []byte{'a' + b%4, 'a' + b/4%4}
	switch b / 16 % 4 {
	case 0:
		return base[:b%3]
	case 1:
		return base
	case 2:
		return append(base, bytes.Repeat([]byte{'x'}, int(b)*4)...)
	}
	return append(base, b, 0)
}

// FuzzDecode: the page decoder (reached only by pages that
// authenticated, still never trusted) never panics, and what it accepts
// encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	leaf := &node{keys: [][]byte{[]byte("a"), []byte("b")}, vals: [][]byte{{}, []byte("x")}}
	inner := &node{level: 1, keys: [][]byte{{}, []byte("m")}, kids: []kid{{id: PageID{1}}, {id: PageID{2}}}}
	f.Add(leaf.encode())
	f.Add(inner.encode())
	f.Add((&node{}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(n.encode(), b) {
			t.Fatalf("decoded %x re-encodes otherwise", b)
		}
	})
}
