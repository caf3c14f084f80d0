package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/chain/store"
)

// Restorer receives one offered snapshot's chunks in order, keeps them on
// disk (a snapshot can be far larger than memory), and once the last one
// arrived rebuilds the state from them. Chunks are hashed as they come, so
// a forged chunk is refused at once and fetched again from another peer;
// the rebuilt tree's root is the final check, against chunk hashes the
// metadata may itself have forged (the metadata's hash is not under the
// app hash, its roots are).
type Restorer struct {
	chainID string
	store   *store.Store
	meta    Metadata
	scratch string
	next    int
}

// ErrChunkHash says a chunk's bytes do not hash to the metadata's hash for
// it: the sender sent something else.
var ErrChunkHash = errors.New("snapshot chunk does not match its hash")

// ErrChunkOrder says a chunk came out of order.
var ErrChunkOrder = errors.New("snapshot chunk out of order")

// NewRestorer prepares to restore md (already checked against the app
// hash) into s, keeping chunks under scratch, which it empties first.
func NewRestorer(chainID string, s *store.Store, md Metadata, scratch string) (*Restorer, error) {
	if err := os.RemoveAll(scratch); err != nil {
		return nil, fmt.Errorf("snapshot scratch: %w", err)
	}
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot scratch: %w", err)
	}
	return &Restorer{chainID: chainID, store: s, meta: md, scratch: scratch}, nil
}

// Metadata is the snapshot being restored.
func (r *Restorer) Metadata() Metadata { return r.meta }

// Next is the index of the chunk expected next.
func (r *Restorer) Next() int { return r.next }

// Done reports whether every chunk arrived.
func (r *Restorer) Done() bool { return r.next == len(r.meta.ChunkHashes) }

// Add checks and stores chunk index; it must be the next one.
func (r *Restorer) Add(index int, chunk []byte) error {
	if index != r.next {
		return fmt.Errorf("%w: got %d, want %d", ErrChunkOrder, index, r.next)
	}
	if got := sha256.Sum256(chunk); !bytes.Equal(got[:], r.meta.ChunkHashes[index]) {
		return fmt.Errorf("%w: chunk %d", ErrChunkHash, index)
	}
	if err := os.WriteFile(ChunkFile(r.scratch, index), chunk, 0o600); err != nil {
		return fmt.Errorf("snapshot chunk %d: %w", index, err)
	}
	r.next++
	return nil
}

// Restore rebuilds the state from the stored chunks and checks its root;
// the block hash is read from the restored state. Any failure leaves the store
// empty. The scratch directory is removed either way.
func (r *Restorer) Restore(ctx context.Context) (store.Meta, error) {
	defer r.Close()
	if !r.Done() {
		return store.Meta{}, fmt.Errorf("snapshot restore: %d of %d chunks", r.next, len(r.meta.ChunkHashes))
	}
	rs, err := r.store.BeginRestore(r.meta.Height)
	if err != nil {
		return store.Meta{}, err
	}
	if _, err := readNodes(ctx, r.chunks(), rs.Add); err != nil {
		return store.Meta{}, errors.Join(fmt.Errorf("snapshot restore: %w", err), rs.Abort())
	}
	// The app hash is what the metadata implies; its parts were checked
	// against the verified app hash at the offer, and Finish checks the
	// tree against StateRoot and reads the block hash from it.
	meta := store.Meta{Height: r.meta.Height, AppHash: r.meta.AppHash(r.chainID), Time: r.meta.BlockTime}
	return rs.Finish(r.meta.StateRoot, meta)
}

// chunks reads the stored chunks as one stream, opening one file at a time.
func (r *Restorer) chunks() io.Reader {
	readers := make([]io.Reader, len(r.meta.ChunkHashes))
	for i := range readers {
		readers[i] = &lazyFile{path: ChunkFile(r.scratch, i)}
	}
	return io.MultiReader(readers...)
}

// Close removes the scratch directory.
func (r *Restorer) Close() error { return os.RemoveAll(r.scratch) }

// lazyFile opens its file at the first read and closes it at EOF, so a
// snapshot of many chunks never holds many descriptors.
type lazyFile struct {
	path string
	f    *os.File
	done bool
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.f == nil {
		f, err := os.Open(l.path)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	n, err := l.f.Read(p)
	if errors.Is(err, io.EOF) {
		l.f.Close()
		l.done = true
	}
	return n, err
}

// ScratchDir is where a node keeps an incoming snapshot's chunks, beside
// (not inside) the directory of its own snapshots.
func ScratchDir(snapshotDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(snapshotDir)), "snapshot-restore")
}
