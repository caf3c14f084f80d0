package node

import (
	"errors"
	"testing"

	dbm "github.com/cometbft/cometbft-db"
)

// CometBFT's indexer writes from a goroutine its Stop does not wait for; a
// write that lands after the node closed its stores must fail, not panic.
func TestClosedStoreRefusesUseWithoutPanic(t *testing.T) {
	pdb, err := dbm.NewPebbleDB("tx_index", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &onceDB{DB: pdb}
	if err := d.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	pending := d.NewBatch()
	if err := pending.Set([]byte("k2"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	uses := map[string]func() error{
		"batch write sync": pending.WriteSync,
		"batch write":      pending.Write,
		"new batch write":  func() error { b := d.NewBatch(); _ = b.Set([]byte("a"), nil); return b.WriteSync() },
		"get":              func() error { _, err := d.Get([]byte("k")); return err },
		"has":              func() error { _, err := d.Has([]byte("k")); return err },
		"set":              func() error { return d.Set([]byte("k"), []byte("v")) },
		"set sync":         func() error { return d.SetSync([]byte("k"), []byte("v")) },
		"delete":           func() error { return d.Delete([]byte("k")) },
		"delete sync":      func() error { return d.DeleteSync([]byte("k")) },
		"iterator":         func() error { _, err := d.Iterator(nil, nil); return err },
		"reverse iterator": func() error { _, err := d.ReverseIterator(nil, nil); return err },
		"compact":          func() error { return d.Compact(nil, nil) },
		"second close":     func() error { return errors.Join(d.Close(), errStoreClosed) },
	}
	for name, use := range uses {
		t.Run(name, func(t *testing.T) {
			if err := use(); !errors.Is(err, errStoreClosed) {
				t.Fatalf("use after close = %v, want %v", err, errStoreClosed)
			}
		})
	}
}
