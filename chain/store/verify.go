package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
)

// TreeReport is what a full verification of the committed state found.
type TreeReport struct {
	Height int64  `json:"height"`
	Keys   int64  `json:"keys"`
	Root   []byte `json:"root"`
}

// VerifyTree checks the whole committed state against its root, which the
// app hash commits to: it rebuilds the tree from the stored leaves in a
// scratch tree in memory, recomputing every hash, and compares the root it
// gets; and it checks that the index reads use (IAVL's fast index, key →
// value) holds exactly the tree's leaves. An edit anywhere in the store,
// a value, a tree node or the index, fails one of the two. It reads the
// whole state (seconds per million keys) and holds the scratch tree in
// memory, so it is for `phala node check`, not every start.
func (s *Store) VerifyTree(ctx context.Context) (TreeReport, error) {
	height := s.committed.Version() - 1
	r := TreeReport{Height: height, Root: s.committed.Hash()}
	if s.committed.Version() == 0 {
		return r, nil
	}
	keys, err := s.rebuildRoot(ctx, r.Root)
	if err != nil {
		return r, err
	}
	r.Keys = keys
	return r, s.checkIndex(ctx)
}

// rebuildRoot imports the committed tree's export into a scratch tree and
// compares the root hash the import computes.
func (s *Store) rebuildRoot(ctx context.Context, want []byte) (int64, error) {
	exp, err := s.committed.Export()
	if err != nil {
		return 0, fmt.Errorf("export state tree: %w", err)
	}
	defer exp.Close()
	scratch := iavl.NewMutableTree(idb.NewMemDB(), 0, true, iavl.NewNopLogger())
	imp, err := scratch.Import(s.committed.Version())
	if err != nil {
		return 0, err
	}
	defer imp.Close()
	var leaves int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := exp.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			break
		}
		if err != nil {
			return 0, s.Damaged(fmt.Errorf("state tree unreadable: %w", err))
		}
		if n.Height == 0 {
			leaves++
		}
		if err := imp.Add(n); err != nil {
			return 0, s.Damaged(fmt.Errorf("state tree malformed: %w", err))
		}
	}
	if err := imp.Commit(); err != nil {
		return 0, s.Damaged(fmt.Errorf("state tree malformed: %w", err))
	}
	if got := scratch.Hash(); !bytes.Equal(got, want) {
		return 0, s.Damaged(fmt.Errorf("the stored state hashes to root %X, the committed root is %X: a value or tree node was changed", got, want))
	}
	return leaves, nil
}

// checkIndex walks the fast index (what reads return) beside the tree's
// leaves, in key order; both must hold the same keys and values.
func (s *Store) checkIndex(ctx context.Context) error {
	fast, err := s.committed.Iterator(nil, nil, true)
	if err != nil {
		return err
	}
	defer fast.Close()
	var mismatch error
	s.committed.IterateRange(nil, nil, true, func(k, v []byte) bool {
		if err := ctx.Err(); err != nil {
			mismatch = err
			return true
		}
		if !fast.Valid() || !bytes.Equal(fast.Key(), k) || !bytes.Equal(fast.Value(), v) {
			mismatch = s.Damaged(fmt.Errorf("the read index disagrees with the state tree at key %X", k))
			return true
		}
		fast.Next()
		return false
	})
	if mismatch == nil && fast.Valid() {
		mismatch = s.Damaged(fmt.Errorf("the read index holds key %X, which the state tree does not", fast.Key()))
	}
	return mismatch
}
