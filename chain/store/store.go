// Package store is the consensus application's committed state on disk: a
// Pebble database with the last block's meta, recent block hashes and the
// block digests relays fetch. Kept apart from package state (overlays and
// typed keys), so that enclaves, which read chain types but never a
// database, do not link Pebble.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Store is the committed state on disk.
type Store struct {
	db        *pebble.DB
	dir       string
	closeOnce sync.Once
	closeErr  error
}

var _ state.IterReader = (*Store)(nil)

var (
	metaKey       = state.NewKeyFormat(state.ModuleMeta, 0x01).Key()
	blockHashKeys = state.NewKeyFormat(state.ModuleMeta, 0x04) // height → block hash
	digestKeys    = state.NewKeyFormat(state.ModuleMeta, 0x05) // height → the block's encoded mq.Block (writes hash, messages)
)

// RecentBlocks is how many recent block hashes the store keeps, so that a
// transaction can prove it was made after a recent block (attestation
// freshness).
const RecentBlocks = 1000

// Meta is what the application must know at start: the last block it
// committed, that block's hash and its app hash.
type Meta struct {
	_         struct{} `cbor:",toarray"`
	Height    int64
	AppHash   []byte
	BlockHash []byte
	Time      int64 // block time, unix nanoseconds
}

// Open opens (or creates) the store in dir.
func Open(dir string) (*Store, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{dir: dir}, EventListener: damageListener()})
	if err != nil {
		if pebble.IsCorruptionError(err) || errors.Is(err, pebble.ErrCorruption) {
			return nil, &DamagedError{Path: dir, Err: err}
		}
		return nil, fmt.Errorf("open state store %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir}, nil
}

// Close closes the database; closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// Get reads a committed value; a missing key is nil.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state get: %w", s.damaged(err))
	}
	out := append([]byte{}, v...)
	return out, closer.Close()
}

// Meta returns the last committed height and app hash (zero when new).
func (s *Store) Meta() (Meta, error) {
	b, err := s.Get(metaKey)
	if err != nil || b == nil {
		return Meta{}, err
	}
	var m Meta
	if err := codec.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("state meta is corrupt: %w", err)
	}
	return m, nil
}

// Commit writes the changes, the new meta and the block's encoded digest
// (writes hash and message list for enclaves; nil when the block changed
// nothing) in one synced batch: after a crash the store holds either all of
// a block or none of it. The digest is kept for relays to fetch; the app
// hash commits to it.
func (s *Store) Commit(changes []state.Change, meta Meta, digest []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, c := range changes {
		var err error
		if c.Value == nil {
			err = b.Delete(c.Key, nil)
		} else {
			err = b.Set(c.Key, c.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("state batch: %w", err)
		}
	}
	if err := b.Set(metaKey, codec.MustMarshal(meta), nil); err != nil {
		return fmt.Errorf("state batch: %w", err)
	}
	if err := s.recordBlockHash(b, meta); err != nil {
		return fmt.Errorf("state batch: %w", err)
	}
	if digest != nil {
		if err := b.Set(digestKeys.Key(heightBytes(meta.Height)), digest, nil); err != nil {
			return fmt.Errorf("state batch: %w", err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	return nil
}

// recordBlockHash keeps the hashes of the last RecentBlocks blocks. They are
// facts of consensus every node has, not application state, so they stay out
// of the app hash; they are committed with the block all the same.
func (s *Store) recordBlockHash(b *pebble.Batch, meta Meta) error {
	if meta.Height <= 0 || meta.BlockHash == nil {
		return nil
	}
	if err := b.Set(blockHashKeys.Key(heightBytes(meta.Height)), meta.BlockHash, nil); err != nil {
		return err
	}
	if old := meta.Height - RecentBlocks; old > 0 {
		return b.Delete(blockHashKeys.Key(heightBytes(old)), nil)
	}
	return nil
}

// BlockDigest returns the encoded digest of a committed block (nil when
// the block changed nothing).
func (s *Store) BlockDigest(height int64) ([]byte, error) {
	return s.Get(digestKeys.Key(heightBytes(height)))
}

// BlockHash returns the hash of a recent committed block.
func (s *Store) BlockHash(height int64) ([]byte, bool, error) {
	v, err := s.Get(blockHashKeys.Key(heightBytes(height)))
	return v, v != nil, err
}

func heightBytes(h int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(h))
	return b[:]
}

// Iterate calls fn for every committed key with the given prefix, in order.
// fn must not keep key or value.
func (s *Store) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("state iterate: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return s.damaged(err)
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	return s.damaged(it.Close())
}

// prefixEnd is the smallest key above every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte{}, prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// quietLogger keeps Pebble's informational chatter off the terminal; fatal
// problems end the process with one message (see exitOnDamage).
type quietLogger struct{ dir string }

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}

// Fatalf is pebble's report of a store it cannot go on with; pebble
// expects it not to return.
func (l quietLogger) Fatalf(format string, args ...any) {
	exitOnDamage(&DamagedError{Path: l.dir, Err: fmt.Errorf(brief(format), args...)})
}
