package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/snapshot"
	"github.com/phala-go/phala/token"
)

var bg = context.Background()

// snapshotSource runs a chain that snapshots every 3 heights until it has
// one of height 6, and returns the chain and that snapshot.
func snapshotSource(t *testing.T) (*apptest.Chain, *abci.Snapshot) {
	t.Helper()
	c := apptest.New(t, apptest.WithApp(func(chainID, dir string) (*app.App, error) {
		a, err := app.New(chainID, dir, slog.Default())
		if err != nil {
			return nil, err
		}
		return a, a.EnableSnapshots(snapshot.Options{Dir: filepath.Join(dir, "snapshots"), Interval: 3, Keep: 2})
	}))
	for i := range 6 {
		if i == 2 {
			c.Block(c.Tx(apptest.Alice, bankapi.MethodTransfer, bankapi.Transfer{To: apptest.Bob.Addr, Amount: token.PHA(5)}))
			continue
		}
		c.Block()
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		l, err := c.App.ListSnapshots(bg, &abci.ListSnapshotsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range l.Snapshots {
			if s.Height == 6 {
				return c, s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no snapshot of height 6 within 20s")
	return nil, nil
}

// fresh is an empty application that may restore snapshots.
func fresh(t *testing.T) *app.App {
	t.Helper()
	dir := t.TempDir()
	a, err := app.New(apptest.ChainID, filepath.Join(dir, "app"), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.EnableSnapshots(snapshot.Options{Dir: filepath.Join(dir, "snapshots")}); err != nil {
		t.Fatal(err)
	}
	return a
}

func chunks(t *testing.T, c *apptest.Chain, s *abci.Snapshot) [][]byte {
	t.Helper()
	out := make([][]byte, s.Chunks)
	for i := range out {
		r, err := c.App.LoadSnapshotChunk(bg, &abci.LoadSnapshotChunkRequest{Height: s.Height, Format: s.Format, Chunk: uint32(i)})
		if err != nil || len(r.Chunk) == 0 {
			t.Fatalf("chunk %d: %v", i, err)
		}
		out[i] = r.Chunk
	}
	return out
}

// forge re-encodes edited metadata under a consistent hash, as a peer
// would that wants its snapshot to pass the cheap checks.
func forge(t *testing.T, s *abci.Snapshot, edit func(*snapshot.Metadata)) *abci.Snapshot {
	t.Helper()
	md, err := snapshot.DecodeMetadata(s.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	md.ChunkHashes = slices.Clone(md.ChunkHashes)
	edit(&md)
	return &abci.Snapshot{Height: uint64(md.Height), Format: s.Format, Chunks: uint32(len(md.ChunkHashes)), Hash: md.Hash(), Metadata: md.Encode()}
}

func TestOfferSnapshot(t *testing.T) {
	src, snap := snapshotSource(t)
	appHash := appHashAt(t, src, 6)
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[0] ^= 1; return b }
	cases := []struct {
		name    string
		snap    *abci.Snapshot
		appHash []byte
		want    abci.OfferSnapshotResult
	}{
		{"honest", snap, appHash, abci.OFFER_SNAPSHOT_RESULT_ACCEPT},
		{"other format", &abci.Snapshot{Height: 6, Format: 2, Chunks: snap.Chunks, Hash: snap.Hash, Metadata: snap.Metadata}, appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT_FORMAT},
		{"wrong app hash", snap, flip(appHash), abci.OFFER_SNAPSHOT_RESULT_REJECT},
		{"forged state root", forge(t, snap, func(m *snapshot.Metadata) { m.StateRoot = flip(m.StateRoot) }), appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT},
		{"forged messages root", forge(t, snap, func(m *snapshot.Metadata) { m.MessagesRoot = flip(m.MessagesRoot) }), appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT},
		// Height 6's state offered as height 3: CometBFT verifies height 3's app hash.
		{"other height", forge(t, snap, func(m *snapshot.Metadata) { m.Height = 3 }), appHashAt(t, src, 3), abci.OFFER_SNAPSHOT_RESULT_REJECT},
		{"hash not the metadata's", &abci.Snapshot{Height: 6, Format: 1, Chunks: snap.Chunks, Hash: flip(snap.Hash), Metadata: snap.Metadata}, appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT},
		{"chunk count", &abci.Snapshot{Height: 6, Format: 1, Chunks: snap.Chunks + 1, Hash: snap.Hash, Metadata: snap.Metadata}, appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT},
		{"garbage metadata", &abci.Snapshot{Height: 6, Format: 1, Chunks: 1, Hash: snap.Hash, Metadata: []byte{0x83, 1, 2}}, appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT},
		{"no snapshot", nil, appHash, abci.OFFER_SNAPSHOT_RESULT_REJECT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := fresh(t).OfferSnapshot(bg, &abci.OfferSnapshotRequest{Snapshot: c.snap, AppHash: c.appHash})
			if err != nil || r.Result != c.want {
				t.Fatalf("offer: %v (%v), want %v", r.GetResult(), err, c.want)
			}
		})
	}
	// A node with state never restores over it.
	r, err := src.App.OfferSnapshot(bg, &abci.OfferSnapshotRequest{Snapshot: snap, AppHash: appHash})
	if err != nil || r.Result != abci.OFFER_SNAPSHOT_RESULT_ABORT {
		t.Fatalf("offer to a node with state: %v (%v)", r.GetResult(), err)
	}
}

// appHashAt is the app hash after height, as the header of height+1 (which
// CometBFT's light client verifies) carries it.
func appHashAt(t *testing.T, c *apptest.Chain, height int64) []byte {
	t.Helper()
	h, ok, err := c.App.Store().AppHash(height)
	if err != nil || !ok {
		t.Fatalf("app hash of %d: %v", height, err)
	}
	return h
}

// An altered chunk is refused: fetched again, its sender dropped; the
// honest one then restores a state that goes on exactly like the source.
func TestApplySnapshotChunkRefusesAlteredChunk(t *testing.T) {
	src, snap := snapshotSource(t)
	dst := fresh(t)
	offer(t, dst, snap, appHashAt(t, src, 6))
	cs := chunks(t, src, snap)
	last := len(cs) - 1
	for i, c := range cs[:last] {
		apply(t, dst, i, c, "honest", abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT)
	}
	altered := bytes.Clone(cs[last])
	altered[len(altered)/2] ^= 0x40
	r := apply(t, dst, last, altered, "liar", abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY)
	if !slices.Equal(r.RefetchChunks, []uint32{uint32(last)}) || !slices.Equal(r.RejectSenders, []string{"liar"}) {
		t.Fatalf("refetch %v, reject %v", r.RefetchChunks, r.RejectSenders)
	}
	apply(t, dst, last, cs[last], "honest", abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT)
	sameAsSource(t, src, dst, 6)
}

// Chunk hashes are not under the app hash: a peer can forge them together
// with the chunks. The rebuilt root catches that, the whole snapshot is
// refused and the store left empty for the next one.
func TestForgedChunksCaughtByRoot(t *testing.T) {
	src, snap := snapshotSource(t)
	appHash := appHashAt(t, src, 6)
	cs := chunks(t, src, snap)
	cases := []struct {
		name string
		edit func([][]byte) [][]byte
	}{
		{"truncated last chunk", func(c [][]byte) [][]byte { c[len(c)-1] = c[len(c)-1][:len(c[len(c)-1])/2]; return c }},
		{"altered last chunk", func(c [][]byte) [][]byte {
			c[len(c)-1] = bytes.Clone(c[len(c)-1])
			c[len(c)-1][len(c[len(c)-1])-10] ^= 1
			return c
		}},
		{"empty chunk", func(c [][]byte) [][]byte { c[0] = []byte{}; return c }},
	}
	dst := fresh(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := c.edit(slices.Clone(cs))
			forged := forge(t, snap, func(m *snapshot.Metadata) {
				for i, b := range bad {
					h := sha256.Sum256(b)
					m.ChunkHashes[i] = h[:]
				}
			})
			offer(t, dst, forged, appHash)
			for i, b := range bad[:len(bad)-1] {
				apply(t, dst, i, b, "liar", abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT)
			}
			apply(t, dst, len(bad)-1, bad[len(bad)-1], "liar", abci.APPLY_SNAPSHOT_CHUNK_RESULT_REJECT_SNAPSHOT)
			if info, _ := dst.Info(bg, &abci.InfoRequest{}); info.LastBlockHeight != 0 || info.LastBlockAppHash != nil {
				t.Fatalf("store not empty after a refused snapshot: %+v", info)
			}
		})
	}
	offer(t, dst, snap, appHash)
	for i, c := range cs {
		apply(t, dst, i, c, "honest", abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT)
	}
	sameAsSource(t, src, dst, 6)
}

func offer(t *testing.T, a *app.App, s *abci.Snapshot, appHash []byte) {
	t.Helper()
	r, err := a.OfferSnapshot(bg, &abci.OfferSnapshotRequest{Snapshot: s, AppHash: appHash})
	if err != nil || r.Result != abci.OFFER_SNAPSHOT_RESULT_ACCEPT {
		t.Fatalf("offer: %v (%v)", r.GetResult(), err)
	}
}

func apply(t *testing.T, a *app.App, i int, chunk []byte, sender string, want abci.ApplySnapshotChunkResult) *abci.ApplySnapshotChunkResponse {
	t.Helper()
	r, err := a.ApplySnapshotChunk(bg, &abci.ApplySnapshotChunkRequest{Index: uint32(i), Chunk: chunk, Sender: sender})
	if err != nil || r.Result != want {
		t.Fatalf("chunk %d from %s: %v (%v), want %v", i, sender, r.GetResult(), err, want)
	}
	return r
}

// sameAsSource checks dst, restored at height, reports the source's app
// hash there, and that both compute the same next block.
func sameAsSource(t *testing.T, src *apptest.Chain, dst *app.App, height int64) {
	t.Helper()
	info, err := dst.Info(bg, &abci.InfoRequest{})
	if err != nil || info.LastBlockHeight != height || !bytes.Equal(info.LastBlockAppHash, appHashAt(t, src, height)) {
		t.Fatalf("restored info %+v (%v), want height %d app hash %X", info, err, height, appHashAt(t, src, height))
	}
	if !bytes.Equal(dst.Store().StateRoot(), src.App.Store().StateRoot()) {
		t.Fatalf("restored state root %X, source %X", dst.Store().StateRoot(), src.App.Store().StateRoot())
	}
	// And the restored node goes on exactly like the source: the same
	// block (with a transfer) gives the same app hash on both.
	hash := sha256.Sum256([]byte("next"))
	tx := src.Tx(apptest.Bob, bankapi.MethodTransfer, bankapi.Transfer{To: apptest.Carol.Addr, Amount: token.PHA(1)})
	req := &abci.FinalizeBlockRequest{Height: height + 1, Time: src.Now.Add(time.Second), Hash: hash[:], Txs: [][]byte{tx}}
	var got [2][]byte
	for i, a := range []*app.App{src.App, dst} {
		r, err := a.FinalizeBlock(bg, req)
		if err != nil {
			t.Fatal(err)
		}
		if r.TxResults[0].Code != 0 {
			t.Fatalf("transfer on node %d: %s", i, r.TxResults[0].Log)
		}
		if _, err := a.Commit(bg, &abci.CommitRequest{}); err != nil {
			t.Fatal(err)
		}
		got[i] = r.AppHash
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Fatalf("next block: source app hash %X, restored %X", got[0], got[1])
	}
}
