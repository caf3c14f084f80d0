package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	idb "github.com/cosmos/iavl/db"
)

// treeDB gives the IAVL tree its own key space inside the store's Pebble
// database: every key the tree writes is prefixed with TreePrefix, so tree
// nodes never meet the store's own records (meta, digests), and the tree's
// writes and the store's meta reach the same write-ahead log in order.
type treeDB struct {
	db     *pebble.DB
	prefix []byte
}

// TreePrefix starts every key the state tree writes into the database;
// module bytes are small, so 0xf0 is free. Exported for tools that inspect
// or (in tests) damage a raw database.
const TreePrefix = 0xf0

var _ idb.DB = (*treeDB)(nil)

func (t *treeDB) key(k []byte) []byte {
	out := make([]byte, 0, len(t.prefix)+len(k))
	return append(append(out, t.prefix...), k...)
}

func (t *treeDB) Get(k []byte) ([]byte, error) {
	if len(k) == 0 {
		return nil, errors.New("tree db: empty key")
	}
	v, closer, err := t.db.Get(t.key(k))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, closer.Close()
}

func (t *treeDB) Has(k []byte) (bool, error) {
	v, err := t.Get(k)
	return v != nil, err
}

func (t *treeDB) Iterator(start, end []byte) (idb.Iterator, error) {
	return t.iterator(start, end, false)
}

func (t *treeDB) ReverseIterator(start, end []byte) (idb.Iterator, error) {
	return t.iterator(start, end, true)
}

func (t *treeDB) iterator(start, end []byte, reverse bool) (idb.Iterator, error) {
	lower := t.key(start)
	upper := prefixEnd(t.prefix)
	if end != nil {
		upper = t.key(end)
	}
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("tree db iterator: %w", err)
	}
	ti := &treeIter{it: it, start: start, end: end, strip: len(t.prefix), reverse: reverse}
	if reverse {
		ti.valid = it.Last()
	} else {
		ti.valid = it.First()
	}
	return ti, nil
}

// Close leaves the database to the store, which owns it.
func (t *treeDB) Close() error { return nil }

func (t *treeDB) NewBatch() idb.Batch { return &treeBatch{t: t, b: t.db.NewBatch()} }

func (t *treeDB) NewBatchWithSize(int) idb.Batch { return t.NewBatch() }

type treeIter struct {
	it         *pebble.Iterator
	start, end []byte
	strip      int
	reverse    bool
	valid      bool
}

func (i *treeIter) Domain() ([]byte, []byte) { return i.start, i.end }
func (i *treeIter) Valid() bool              { return i.valid }
func (i *treeIter) Key() []byte              { return bytes.Clone(i.it.Key()[i.strip:]) }
func (i *treeIter) Value() []byte            { return bytes.Clone(i.it.Value()) }
func (i *treeIter) Error() error             { return i.it.Error() }
func (i *treeIter) Close() error             { return i.it.Close() }

func (i *treeIter) Next() {
	if i.reverse {
		i.valid = i.it.Prev()
	} else {
		i.valid = i.it.Next()
	}
}

type treeBatch struct {
	t    *treeDB
	b    *pebble.Batch
	done bool
}

func (b *treeBatch) Set(k, v []byte) error {
	if b.done {
		return errors.New("tree db: batch already written")
	}
	return b.b.Set(b.t.key(k), v, nil)
}

func (b *treeBatch) Delete(k []byte) error {
	if b.done {
		return errors.New("tree db: batch already written")
	}
	return b.b.Delete(b.t.key(k), nil)
}

// Write commits without fsync: the store's meta batch that follows each
// block is synced, and Pebble's log is sequential, so the tree's writes are
// durable once the meta is.
func (b *treeBatch) Write() error { return b.write(false) }

func (b *treeBatch) WriteSync() error { return b.write(true) }

func (b *treeBatch) write(sync bool) error {
	if b.done {
		return errors.New("tree db: batch already written")
	}
	b.done = true
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	return b.b.Commit(opt)
}

func (b *treeBatch) Close() error {
	if b.b == nil {
		return nil
	}
	err := b.b.Close()
	b.b = nil
	return err
}

func (b *treeBatch) GetByteSize() (int, error) { return b.b.Len(), nil }
