package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

const chainID = "phala-test"

var item = state.NewKeyFormat(0x7f, 0x01)

// node is a store committed block by block like the application does,
// with a manager snapshotting every interval heights.
type node struct {
	t   *testing.T
	s   *store.Store
	m   *Manager
	dir string
	app []byte
}

func newNode(t *testing.T, interval int64, keep int) *node {
	t.Helper()
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(chainID, s, Options{Dir: filepath.Join(dir, "snapshots"), Interval: interval, Keep: keep}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, s: s, m: m, dir: dir}
	t.Cleanup(func() { m.Close(); s.Close() })
	root, err := s.Stage([]state.Change{{Key: item.Key([]byte("genesis")), Value: []byte("g")}})
	if err != nil {
		t.Fatal(err)
	}
	n.app, _ = mq.Block{StateRoot: root}.AppHash(chainID, nil)
	if err := s.Commit(store.Meta{AppHash: n.app}, nil); err != nil {
		t.Fatal(err)
	}
	return n
}

// block commits height with writes of its own and its block hash.
func (n *node) block(h int64, values int) {
	n.t.Helper()
	o := state.NewOverlay(n.s)
	for i := range values {
		o.Set(item.Key(fmt.Appendf(nil, "k%d", (int(h)*7+i)%5000)), bytes.Repeat(fmt.Appendf(nil, "%d.", h), 20))
	}
	hash := bytes.Repeat([]byte{byte(h)}, 32)
	store.RecordBlockHash(o, h, hash)
	root, err := n.s.Stage(o.Changes())
	if err != nil {
		n.t.Fatal(err)
	}
	d := mq.Block{Height: h, StateRoot: root}
	if n.app, err = d.AppHash(chainID, n.app); err != nil {
		n.t.Fatal(err)
	}
	meta := store.Meta{Height: h, AppHash: n.app, BlockHash: hash, Time: h * int64(time.Second)}
	if err := n.s.Commit(meta, codec.MustMarshal(d)); err != nil {
		n.t.Fatal(err)
	}
	n.m.Committed(meta)
}

func (n *node) waitFor(h int64) Snapshot {
	n.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range n.m.List() {
			if s.Meta.Height == h {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	n.t.Fatalf("no snapshot of height %d", h)
	return Snapshot{}
}

// Two nodes with the same history serve byte-identical snapshots, so a
// joining node can fetch one snapshot's chunks from both; older snapshots
// beyond Keep are deleted; a restart lists what is on disk and drops an
// unfinished one.
func TestManagerDeterministicKeepAndRescan(t *testing.T) {
	a, b := newNode(t, 10, 2), newNode(t, 10, 2)
	for h := int64(1); h <= 30; h++ {
		a.block(h, 200)
		b.block(h, 200)
		if h%10 == 0 {
			a.waitFor(h)
			b.waitFor(h)
		}
	}
	sa, sb := a.waitFor(30), b.waitFor(30)
	if !bytes.Equal(sa.Meta.Hash(), sb.Meta.Hash()) {
		t.Fatalf("snapshots of one state differ: %X vs %X", sa.Meta.Hash(), sb.Meta.Hash())
	}
	if l := a.m.List(); len(l) != 2 || l[0].Meta.Height != 20 {
		t.Fatalf("kept %d snapshots, want heights 20 and 30", len(l))
	}
	if _, err := os.Stat(filepath.Join(a.dir, "snapshots", "10")); !os.IsNotExist(err) {
		t.Fatalf("snapshot 10 not deleted: %v", err)
	}
	a.m.Close()
	os.MkdirAll(filepath.Join(a.dir, "snapshots", "40.tmp"), 0o700)
	m, err := NewManager(chainID, a.s, Options{Dir: filepath.Join(a.dir, "snapshots"), Interval: 10}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if l := m.List(); len(l) != 2 || l[1].Meta.Height != 30 {
		t.Fatalf("after restart listed %+v", l)
	}
	if _, err := os.Stat(filepath.Join(a.dir, "snapshots", "40.tmp")); !os.IsNotExist(err) {
		t.Fatal("unfinished snapshot not dropped")
	}
}

// A snapshot of many chunks restores into an empty store with the same
// root and app hash.
func TestRestoreManyChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~10 MB")
	}
	// Incompressible values so the stream spans several chunks.
	big := newNode(t, 1, 1)
	o := state.NewOverlay(big.s)
	rnd := rand.NewChaCha8([32]byte{1})
	for i := range 3000 {
		v := make([]byte, 4096)
		rnd.Read(v)
		o.Set(item.Key(fmt.Appendf(nil, "big%d", i)), v)
	}
	store.RecordBlockHash(o, 1, bytes.Repeat([]byte{1}, 32))
	root, _ := big.s.Stage(o.Changes())
	d := mq.Block{Height: 1, StateRoot: root}
	app, _ := d.AppHash(chainID, big.app)
	meta := store.Meta{Height: 1, AppHash: app, BlockHash: bytes.Repeat([]byte{1}, 32), Time: 1}
	if err := big.s.Commit(meta, codec.MustMarshal(d)); err != nil {
		t.Fatal(err)
	}
	big.m.Committed(meta)
	snap := big.waitFor(1)
	if len(snap.Meta.ChunkHashes) < 2 {
		t.Fatalf("%d chunks, want several", len(snap.Meta.ChunkHashes))
	}
	dst, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	r, err := NewRestorer(chainID, dst, snap.Meta, filepath.Join(t.TempDir(), "scratch"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.Meta.ChunkHashes {
		c, err := big.m.LoadChunk(1, Format, uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Add(i, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Restore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.AppHash, app) || !bytes.Equal(dst.StateRoot(), root) {
		t.Fatalf("restored app hash %X root %X, want %X %X", got.AppHash, dst.StateRoot(), app, root)
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	md := Metadata{Version: Format, Height: 5, StateRoot: make([]byte, 32), PrevAppHash: make([]byte, 32), MessagesRoot: make([]byte, 32), ChunkHashes: [][]byte{make([]byte, 32)}}
	f.Add(md.Encode())
	f.Add([]byte{0x87})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMetadata(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

// FuzzRestoreStream feeds arbitrary bytes as a snapshot's chunk stream into
// a real restore: it may fail, never panic, and succeeds only with the
// promised root.
func FuzzRestoreStream(f *testing.F) {
	src, err := store.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer src.Close()
	var changes []state.Change
	for i := range 9 {
		changes = append(changes, state.Change{Key: item.Key(fmt.Appendf(nil, "k%d", i)), Value: fmt.Appendf(nil, "v%d", i)})
	}
	root, _ := src.Stage(changes)
	if err := src.Commit(store.Meta{AppHash: root}, nil); err != nil {
		f.Fatal(err)
	}
	exp, err := src.OpenExport(0)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if _, _, err := writeChunks(context.Background(), dir, exp); err != nil {
		f.Fatal(err)
	}
	exp.Close()
	seed, err := os.ReadFile(ChunkFile(dir, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		dst, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		rs, err := dst.BeginRestore(1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readNodes(context.Background(), bytes.NewReader(b), rs.Add); err != nil {
			rs.Abort()
			return
		}
		if _, err := rs.Finish(root, store.Meta{Height: 1, AppHash: []byte("x")}); err == nil && !bytes.Equal(dst.StateRoot(), root) {
			t.Fatal("restore accepted a tree with another root")
		}
	})
}

// A snapshot a peer is fetching outlives Keep: CometBFT's state sync would
// otherwise refetch its vanished chunks forever.
func TestServedSnapshotOutlivesKeep(t *testing.T) {
	n := newNode(t, 5, 1)
	for h := int64(1); h <= 5; h++ {
		n.block(h, 10)
	}
	n.waitFor(5)
	if c, err := n.m.LoadChunk(5, Format, 0); err != nil || len(c) == 0 {
		t.Fatalf("chunk of snapshot 5: %v", err)
	}
	for h := int64(6); h <= 10; h++ {
		n.block(h, 10)
	}
	n.waitFor(10)
	if c, err := n.m.LoadChunk(5, Format, 0); err != nil || len(c) == 0 {
		t.Fatalf("snapshot 5, being fetched, was deleted (%v)", err)
	}
	if l := n.m.List(); len(l) != 2 {
		t.Fatalf("listed %d snapshots, want 5 (served) and 10", len(l))
	}
}
