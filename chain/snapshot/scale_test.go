package snapshot

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// TestSnapshotScale measures a snapshot of a large state: N bank accounts
// (the bank's key format, realistic balances and nonces) committed in
// batches of blocks, then the snapshot's time and size (records before
// compression, chunks on disk) and the restore's time into an empty store.
// It is a measurement, not a check: run it with
//
//	PHALA_SNAPSHOT_ACCOUNTS=1000000 go test ./chain/snapshot -run TestSnapshotScale -v -timeout 30m
func TestSnapshotScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PHALA_SNAPSHOT_ACCOUNTS"))
	if n <= 0 {
		t.Skip("set PHALA_SNAPSHOT_ACCOUNTS to measure (e.g. 1000000)")
	}
	const perBlock = 50_000
	src := newNode(t, 0, 1)
	start := time.Now()
	var h int64
	for done := 0; done < n; {
		h++
		o := state.NewOverlay(src.s)
		for end := min(done+perBlock, n); done < end; done++ {
			o.Set(bankapi.AccountKeyOf(accountAddress(done)), codec.MustMarshal(account(done)))
		}
		src.commitOverlay(h, o)
	}
	t.Logf("built %d accounts in %d blocks in %v; store on disk %s", n, h, time.Since(start).Round(time.Millisecond), mib(dirSize(t, filepath.Join(src.dir, "app"))))

	exp, err := src.s.OpenExport(h)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	hashes, st, err := writeChunks(context.Background(), dir, exp)
	exp.Close()
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("snapshot of height %d: %v; %d tree nodes, records %s, chunks %s (%d of %s), on disk %s",
		h, took.Round(time.Millisecond), st.Nodes, mib(st.RawBytes), mib(st.Bytes), st.Chunks, mib(ChunkSize), mib(dirSize(t, dir)))

	dstDir := filepath.Join(t.TempDir(), "dst")
	dst, err := store.Open(dstDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	prev, _, _ := src.s.AppHash(h - 1)
	root := mq.Root(chainID, nil)
	md := Metadata{Version: Format, Height: h, StateRoot: src.s.StateRoot(), PrevAppHash: prev, MessagesRoot: root[:], ChunkHashes: hashes}
	r, err := NewRestorer(chainID, dst, md, filepath.Join(t.TempDir(), "scratch"))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for i := range hashes {
		b, err := os.ReadFile(ChunkFile(dir, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Add(i, b); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := r.Restore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	took = time.Since(start)
	t.Logf("restore (chunks checked and stored, tree rebuilt, root checked): %v; restored store on disk %s",
		took.Round(time.Millisecond), mib(dirSize(t, dstDir)))
	if string(meta.AppHash) != string(src.app) {
		t.Fatalf("restored app hash %X, want %X", meta.AppHash, src.app)
	}
}

func accountAddress(i int) address.Address {
	h := sha256.Sum256([]byte("account" + strconv.Itoa(i)))
	var a address.Address
	copy(a[:], h[:])
	return a
}

func account(i int) bankapi.Account {
	return bankapi.Account{Balance: token.PHA(uint64(1 + i%100_000)), Nonce: uint64(i % 1000)}
}

// commitOverlay commits o as height h as the application does (block
// hash recorded, digest kept).
func (n *node) commitOverlay(h int64, o *state.Overlay) {
	n.t.Helper()
	hash := sha256.Sum256([]byte("block" + strconv.FormatInt(h, 10)))
	store.RecordBlockHash(o, h, hash[:])
	root, err := n.s.Stage(o.Changes())
	if err != nil {
		n.t.Fatal(err)
	}
	d := mq.Block{Height: h, StateRoot: root}
	if n.app, err = d.AppHash(chainID, n.app); err != nil {
		n.t.Fatal(err)
	}
	if err := n.s.Commit(store.Meta{Height: h, AppHash: n.app, BlockHash: hash[:], Time: h}, codec.MustMarshal(d)); err != nil {
		n.t.Fatal(err)
	}
}

func dirSize(t *testing.T, dir string) int64 {
	var total int64
	// Pebble compacts in the background: a file may vanish under the walk.
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }
