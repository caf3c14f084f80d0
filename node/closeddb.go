package node

import (
	"errors"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
)

// errStoreClosed answers a use of a store after the node closed it.
var errStoreClosed = errors.New("store closed: the node has stopped")

// onceDB makes Close idempotent (pebble panics on a second Close) and makes
// any use after Close an error instead of pebble's panic. CometBFT's indexer
// service writes from a goroutine that its Stop does not wait for, so a
// block indexed while the node stops would otherwise crash the process.
// Close waits for uses in flight; uses after it fail.
type onceDB struct {
	dbm.DB
	mu     sync.RWMutex
	closed bool
	once   sync.Once
	err    error
}

func (d *onceDB) Close() error {
	d.once.Do(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.closed = true
		d.err = catch("closing store", d.DB.Close)
	})
	return d.err
}

// use runs f unless the store is closed, holding Close off until f returns.
func (d *onceDB) use(f func() error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errStoreClosed
	}
	return f()
}

func (d *onceDB) Get(key []byte) (v []byte, err error) {
	err = d.use(func() (e error) { v, e = d.DB.Get(key); return e })
	return v, err
}

func (d *onceDB) Has(key []byte) (ok bool, err error) {
	err = d.use(func() (e error) { ok, e = d.DB.Has(key); return e })
	return ok, err
}

func (d *onceDB) Set(key, value []byte) error {
	return d.use(func() error { return d.DB.Set(key, value) })
}

func (d *onceDB) SetSync(key, value []byte) error {
	return d.use(func() error { return d.DB.SetSync(key, value) })
}

func (d *onceDB) Delete(key []byte) error {
	return d.use(func() error { return d.DB.Delete(key) })
}

func (d *onceDB) DeleteSync(key []byte) error {
	return d.use(func() error { return d.DB.DeleteSync(key) })
}

func (d *onceDB) Iterator(start, end []byte) (it dbm.Iterator, err error) {
	err = d.use(func() (e error) { it, e = d.DB.Iterator(start, end); return e })
	return it, err
}

func (d *onceDB) ReverseIterator(start, end []byte) (it dbm.Iterator, err error) {
	err = d.use(func() (e error) { it, e = d.DB.ReverseIterator(start, end); return e })
	return it, err
}

func (d *onceDB) Compact(start, end []byte) error {
	return d.use(func() error { return d.DB.Compact(start, end) })
}

// NewBatch gives a batch whose writes fail once the store is closed. Making
// the batch itself needs no guard: pebble only touches the store on write.
func (d *onceDB) NewBatch() dbm.Batch { return &onceBatch{Batch: d.DB.NewBatch(), db: d} }

type onceBatch struct {
	dbm.Batch
	db *onceDB
}

func (b *onceBatch) Write() error     { return b.db.use(b.Batch.Write) }
func (b *onceBatch) WriteSync() error { return b.db.use(b.Batch.WriteSync) }
