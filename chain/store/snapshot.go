package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cosmos/iavl"
)

// Node is one node of an exported state tree, in the depth-first
// post-order IAVL exports and imports: leaves carry a key and value and
// have height 0, inner nodes carry their split key and subtree height. The
// tree's shape and node versions travel too, so the imported tree hashes
// to the exported root.
type Node struct {
	_       struct{} `cbor:",toarray"`
	Key     []byte
	Value   []byte
	Version int64
	Height  int8
}

// Export is a pinned, read-only view of the state after one height, for a
// snapshot taken while the chain goes on committing. Close releases it.
type Export struct {
	height  int64
	tree    *iavl.ImmutableTree
	release func()
}

// OpenExport pins height and opens its tree for export. The pin keeps the
// version from pruning however long the export takes; it is taken under
// the same lock Commit saves under, so it is safe beside block commits.
func (s *Store) OpenExport(height int64) (*Export, error) {
	release, err := s.Pin(height)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	t, err := s.tree.GetImmutable(version(height))
	s.mu.Unlock()
	if err != nil {
		release()
		return nil, fmt.Errorf("state tree at height %d: %w", height, err)
	}
	return &Export{height: height, tree: t, release: release}, nil
}

// Height is the height whose state this export holds.
func (e *Export) Height() int64 { return e.height }

// Root is the state root of the exported tree.
func (e *Export) Root() []byte { return e.tree.Hash() }

// Close releases the pin; closing twice is harmless.
func (e *Export) Close() {
	if e.release != nil {
		e.release()
		e.release = nil
	}
}

// Each calls fn for every node of the tree in import order, until fn
// fails or ctx ends. fn may keep the node.
func (e *Export) Each(ctx context.Context, fn func(Node) error) error {
	ex, err := e.tree.Export()
	if err != nil {
		return fmt.Errorf("export state at height %d: %w", e.height, err)
	}
	defer ex.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := ex.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("export state at height %d: %w", e.height, err)
		}
		if err := fn(Node{Key: n.Key, Value: n.Value, Version: n.Version, Height: n.Height}); err != nil {
			return err
		}
	}
}

// Restore rebuilds the state of one height from an exported tree, into an
// empty store (state sync). Nothing is visible until Finish succeeds;
// Abort (or a failed Finish) wipes what was written.
type Restore struct {
	s      *Store
	height int64
	imp    *iavl.Importer
	nodes  int64
}

// ErrNotEmpty is returned when a restore is asked of a store that already
// holds state: a snapshot never overwrites a chain.
var ErrNotEmpty = errors.New("state store is not empty")

// BeginRestore starts restoring the state after height into this store,
// which must be empty.
func (s *Store) BeginRestore(height int64) (*Restore, error) {
	if height < 1 {
		return nil, fmt.Errorf("restore height %d: snapshots start at height 1", height)
	}
	meta, err := s.Meta()
	if err != nil {
		return nil, err
	}
	if meta.AppHash != nil || s.tree.Version() != 0 || s.staged {
		return nil, fmt.Errorf("%w (at height %d)", ErrNotEmpty, meta.Height)
	}
	imp, err := s.tree.Import(version(height))
	if err != nil {
		return nil, fmt.Errorf("restore height %d: %w", height, err)
	}
	return &Restore{s: s, height: height, imp: imp}, nil
}

// Add adds the next node, in export order. The fields the importer indexes
// by are checked first: its input is trusted by IAVL, ours comes from
// peers.
func (r *Restore) Add(n Node) (err error) {
	if r.imp == nil {
		return errors.New("restore: already finished or aborted")
	}
	if err := r.check(n); err != nil {
		return fmt.Errorf("restore node %d: %w", r.nodes, err)
	}
	// IAVL's importer may still panic on a malformed tree shape; peers'
	// bytes must never crash the node.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("restore node %d: malformed tree: %v", r.nodes, p)
		}
	}()
	r.nodes++
	iv := iavl.ExportNode{Key: n.Key, Value: n.Value, Version: n.Version, Height: n.Height}
	if err := r.imp.Add(&iv); err != nil {
		return fmt.Errorf("restore node %d: %w", r.nodes-1, err)
	}
	return nil
}

func (r *Restore) check(n Node) error {
	switch {
	case n.Version < 1 || n.Version > version(r.height):
		return fmt.Errorf("version %d outside 1..%d", n.Version, version(r.height))
	case n.Height < 0:
		return fmt.Errorf("negative subtree height %d", n.Height)
	case n.Height == 0 && n.Value == nil:
		return errors.New("leaf without a value")
	case n.Height > 0 && n.Value != nil:
		return errors.New("inner node with a value")
	case len(n.Key) == 0:
		return errors.New("empty key")
	}
	return nil
}

// Finish makes the imported tree the store's state if its root is
// wantRoot, and records meta (the restored height's app hash and time,
// with the block hash read from the restored state) so the application starts from it. Any failure wipes the
// import: the store is empty again and another snapshot can be tried.
func (r *Restore) Finish(wantRoot []byte, meta Meta) (_ Meta, err error) {
	if r.imp == nil {
		return Meta{}, errors.New("restore: already finished or aborted")
	}
	if meta.Height != r.height {
		return Meta{}, errors.Join(fmt.Errorf("restore: meta for height %d, restoring %d", meta.Height, r.height), r.Abort())
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("restore: malformed tree: %v", p)
		}
		if err != nil {
			err = errors.Join(err, r.wipe())
		}
	}()
	imp := r.imp
	r.imp = nil
	if err := imp.Commit(); err != nil {
		imp.Close()
		return Meta{}, fmt.Errorf("restore height %d: %w", r.height, err)
	}
	if err := r.s.loadCommitted(); err != nil {
		return Meta{}, err
	}
	if got := r.s.StateRoot(); !bytes.Equal(got, wantRoot) {
		return Meta{}, fmt.Errorf("%w: restored state root %X, snapshot promised %X", ErrRootMismatch, got, wantRoot)
	}
	// The block's hash is state (for attestation freshness), so it comes
	// from the verified tree, not from the peer.
	hash, ok, err := r.s.BlockHash(r.height)
	if err != nil {
		return Meta{}, err
	}
	if !ok {
		return Meta{}, fmt.Errorf("restored state has no hash for block %d", r.height)
	}
	meta.BlockHash = hash
	return meta, r.s.recordRestore(meta)
}

// ErrRootMismatch says a restored tree does not hash to the root the
// (app-hash-verified) snapshot metadata names: some chunk was forged.
var ErrRootMismatch = errors.New("restored state does not match the snapshot's root")

// Abort drops a restore in progress and wipes what it wrote.
func (r *Restore) Abort() error {
	if r.imp == nil {
		return nil
	}
	r.imp.Close()
	r.imp = nil
	return r.wipe()
}

func (r *Restore) wipe() error {
	if err := r.s.dropTree(); err != nil {
		return err
	}
	return r.s.loadCommitted()
}

// recordRestore writes the restored height's meta and app hash in one
// synced batch, as Commit does for a block.
func (s *Store) recordRestore(meta Meta) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.recordHeight(b, meta, nil); err != nil {
		return fmt.Errorf("state batch: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	s.pruned = meta.Height
	return nil
}
