// Package store is the consensus application's committed state on disk: an
// IAVL tree (github.com/cosmos/iavl) over the whole application state, whose
// root the app hash commits to, kept in a Pebble database beside the
// store's own records: the last block's meta, per-height app hashes and the
// block digests relays fetch. Kept apart from package state (overlays and
// typed keys), so that enclaves, which read chain types but never a
// database, link neither Pebble nor IAVL.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cosmos/iavl"
	ics23 "github.com/cosmos/ics23/go"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Store is the committed state on disk.
type Store struct {
	db        *pebble.DB
	dir       string
	closeOnce sync.Once
	closeErr  error

	tree      *iavl.MutableTree   // the working tree: committed state plus a staged block
	committed *iavl.ImmutableTree // the last committed version, which every read sees
	staged    bool

	mu     sync.Mutex
	pins   map[int64]int // heights being exported: never pruned while pinned
	keep   int64         // how many recent heights stay provable
	pruned int64         // every height below this is gone from the tree
}

var _ state.IterReader = (*Store)(nil)

var (
	metaKey     = state.NewKeyFormat(state.ModuleMeta, 0x01).Key()
	digestKeys  = state.NewKeyFormat(state.ModuleMeta, 0x05) // height → the block's encoded mq.Block (state root, messages)
	appHashKeys = state.NewKeyFormat(state.ModuleMeta, 0x06) // height → app hash, for proofs at recent heights
)

// ErrOldFormat is returned for a store an older version of phala wrote, in
// a layout this one cannot read.
var ErrOldFormat = errors.New("state store in an old format")

// BlockHashes are the hashes of recent blocks, height → block hash. They
// are application state (in the tree, under the app hash): a transaction
// proves it was made after a recent block by naming its hash, and every
// node, including one restored from a snapshot, must judge that alike.
var BlockHashes = state.NewKeyFormat(state.ModuleMeta, 0x04)

// RecentBlocks is how many recent block hashes the state keeps, so that a
// transaction can prove it was made after a recent block (attestation
// freshness).
const RecentBlocks = 1000

// DefaultKeepRecent is how many recent heights keep their tree version (and
// so can be proven) unless Options say otherwise.
const DefaultKeepRecent = 100

// blockCacheBytes is Pebble's block cache: tree nodes not decoded in memory
// are read through it (snapshots, proofs at older heights, a cold start).
const blockCacheBytes = 128 << 20

// nodeCacheSize is how many tree nodes stay decoded in memory.
const nodeCacheSize = 200_000

// Meta is what the application must know at start: the last block it
// committed, that block's hash and its app hash.
type Meta struct {
	_         struct{} `cbor:",toarray"`
	Height    int64
	AppHash   []byte
	BlockHash []byte
	Time      int64 // block time, unix nanoseconds
}

// Options tune a store; the zero value is a node's default.
type Options struct {
	// KeepRecent is how many recent heights stay provable (0: DefaultKeepRecent).
	KeepRecent int64
}

// Open opens (or creates) the store in dir.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith opens (or creates) the store in dir with options.
func OpenWith(dir string, o Options) (*Store, error) {
	cache := pebble.NewCache(blockCacheBytes)
	defer cache.Unref() // the database holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{dir: dir}, EventListener: damageListener(), Cache: cache})
	if err != nil {
		if pebble.IsCorruptionError(err) || errors.Is(err, pebble.ErrCorruption) {
			return nil, &DamagedError{Path: dir, Err: err}
		}
		return nil, fmt.Errorf("open state store %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir, pins: map[int64]int{}, keep: o.KeepRecent}
	if s.keep <= 0 {
		s.keep = DefaultKeepRecent
	}
	if err := s.loadTree(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// version is the tree version that holds the state after block height:
// genesis is height 0, and IAVL numbers versions from 1.
func version(height int64) int64 { return height + 1 }

func (s *Store) newTree() *iavl.MutableTree {
	return iavl.NewMutableTree(&treeDB{db: s.db, prefix: []byte{TreePrefix}}, nodeCacheSize, false,
		iavl.NewNopLogger(), iavl.SyncOption(false))
}

// loadTree opens the tree at the version the meta names. The tree is saved
// before the meta, so after a crash between the two the tree may be one
// version ahead: that version is dropped, and CometBFT replays the block.
func (s *Store) loadTree() error {
	meta, err := s.Meta()
	if err != nil {
		return err
	}
	s.tree = s.newTree()
	latest, err := s.tree.Load()
	if err != nil {
		return s.Damaged(fmt.Errorf("state tree: %w", err))
	}
	want := int64(0)
	if meta.AppHash != nil {
		want = version(meta.Height)
	}
	switch {
	case latest == want:
	case latest == 0:
		return fmt.Errorf("%w: state store %s was written by an older phala, before the state tree (it committed height %d but holds no tree); "+
			"it cannot be upgraded in place: a devnet home can be deleted and made again, a node's data directory moved aside and synced from peers",
			ErrOldFormat, s.dir, meta.Height)
	case latest < want:
		return s.Damaged(fmt.Errorf("state tree ends at height %d, but the store committed height %d", latest-1, meta.Height))
	case want == 0:
		if err := s.dropTree(); err != nil {
			return err
		}
	default:
		if err := s.tree.LoadVersionForOverwriting(want); err != nil {
			return s.Damaged(fmt.Errorf("roll the state tree back to height %d: %w", meta.Height, err))
		}
	}
	s.pruned = s.firstHeight()
	return s.loadCommitted()
}

// dropTree empties a tree that got ahead of a store with no commit at all
// (a crash between saving genesis and recording it).
func (s *Store) dropTree() error {
	if err := s.db.DeleteRange([]byte{TreePrefix}, prefixEnd([]byte{TreePrefix}), pebble.Sync); err != nil {
		return fmt.Errorf("reset state tree: %w", err)
	}
	s.tree = s.newTree()
	if _, err := s.tree.Load(); err != nil {
		return fmt.Errorf("reset state tree: %w", err)
	}
	return nil
}

// loadCommitted points reads at the tree's last saved version.
func (s *Store) loadCommitted() error {
	v := s.tree.Version()
	if v == 0 {
		s.committed = iavl.NewImmutableTree(&treeDB{db: s.db, prefix: []byte{TreePrefix}}, 0, true, iavl.NewNopLogger())
		return nil
	}
	t, err := s.tree.GetImmutable(v)
	if err != nil {
		return s.Damaged(fmt.Errorf("state tree version %d: %w", v, err))
	}
	s.committed = t
	return nil
}

// firstHeight is the oldest height the tree still holds (opening only: it
// scans the versions).
func (s *Store) firstHeight() int64 {
	vs := s.tree.AvailableVersions()
	if len(vs) == 0 {
		return 0
	}
	return int64(vs[0]) - 1
}

// Close closes the database; closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// Get reads a committed value; a missing key is nil.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, err := s.committed.Get(key)
	if err != nil {
		return nil, fmt.Errorf("state get: %w", s.damaged(err))
	}
	return v, nil
}

// get reads one of the store's own records (outside the tree).
func (s *Store) get(key []byte) ([]byte, error) {
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
	b, err := s.get(metaKey)
	if err != nil || b == nil {
		return Meta{}, err
	}
	var m Meta
	if err := codec.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("state meta is corrupt: %w", err)
	}
	return m, nil
}

// Stage applies a block's changes to the working tree and returns the root
// the state would have once they are committed. Reads keep seeing the last
// committed state. Staging again discards what was staged before.
func (s *Store) Stage(changes []state.Change) ([]byte, error) {
	if s.staged {
		s.tree.Rollback()
	}
	s.staged = true
	for _, c := range changes {
		var err error
		if c.Value == nil {
			_, _, err = s.tree.Remove(c.Key)
		} else {
			_, err = s.tree.Set(c.Key, c.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("state tree: %w", err)
		}
	}
	return s.tree.WorkingHash(), nil
}

// Commit saves the staged tree as the state after meta.Height, then writes
// the new meta, the height's app hash and the block's encoded digest (state
// root and message list for enclaves; nil for genesis) in one synced batch.
// The tree goes first: after a crash in between, Open drops the extra tree
// version and CometBFT replays the block.
func (s *Store) Commit(meta Meta, digest []byte) error {
	if !s.staged {
		return errors.New("state commit: nothing staged")
	}
	s.mu.Lock()
	_, v, err := s.tree.SaveVersion()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("state tree save: %w", err)
	}
	if v != version(meta.Height) {
		return fmt.Errorf("state tree saved version %d for height %d", v, meta.Height)
	}
	s.staged = false
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.recordHeight(b, meta, digest); err != nil {
		return fmt.Errorf("state batch: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	if err := s.loadCommitted(); err != nil {
		return err
	}
	return s.prune(meta.Height)
}

func (s *Store) recordHeight(b *pebble.Batch, meta Meta, digest []byte) error {
	if err := b.Set(metaKey, codec.MustMarshal(meta), nil); err != nil {
		return err
	}
	h := heightBytes(meta.Height)
	if err := b.Set(appHashKeys.Key(h), meta.AppHash, nil); err != nil {
		return err
	}
	if digest != nil {
		if err := b.Set(digestKeys.Key(h), digest, nil); err != nil {
			return err
		}
	}
	// A proof at the oldest kept height needs the app hash before it.
	if old := meta.Height - s.keep - 1; old >= 0 {
		return b.Delete(appHashKeys.Key(heightBytes(old)), nil)
	}
	return nil
}

// prune drops the tree versions that fell out of the recent window, unless
// an export holds them.
func (s *Store) prune(height int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	upTo := height - s.keep // the last height to drop
	for h := range s.pins {
		upTo = min(upTo, h-1)
	}
	if upTo < s.pruned {
		return nil
	}
	if err := s.tree.DeleteVersionsTo(version(upTo)); err != nil {
		return fmt.Errorf("state tree prune to height %d: %w", upTo, err)
	}
	s.pruned = upTo + 1
	return nil
}

// Pin keeps height's tree version from pruning until the returned release
// is called (an export in progress). It fails if the height is gone already.
func (s *Store) Pin(height int64) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if height < s.pruned || !s.tree.VersionExists(version(height)) {
		return nil, fmt.Errorf("state at height %d is no longer kept", height)
	}
	s.pins[height]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.pins[height]--; s.pins[height] <= 0 {
			delete(s.pins, height)
		}
	}, nil
}

// AppHash returns the app hash after a recent height.
func (s *Store) AppHash(height int64) ([]byte, bool, error) {
	v, err := s.get(appHashKeys.Key(heightBytes(height)))
	return v, v != nil, err
}

// StateRoot is the root of the committed state tree.
func (s *Store) StateRoot() []byte { return s.committed.Hash() }

// GetAt reads key in the state after a recent height (nil: absent).
func (s *Store) GetAt(height int64, key []byte) ([]byte, error) {
	var value []byte
	err := s.atHeight(height, func(t *iavl.ImmutableTree) (err error) {
		value, err = s.getIn(t, key)
		return err
	})
	return value, err
}

// Proof proves the value of key (or its absence) in the state after a
// recent height: it returns the value (nil if absent) and the ICS-23 proof
// against that height's state root.
func (s *Store) Proof(height int64, key []byte) (value []byte, proof *ics23.CommitmentProof, err error) {
	err = s.atHeight(height, func(t *iavl.ImmutableTree) error {
		if value, err = s.getIn(t, key); err != nil {
			return err
		}
		if value != nil {
			proof, err = t.GetMembershipProof(key)
		} else {
			proof, err = t.GetNonMembershipProof(key)
		}
		if err != nil {
			return fmt.Errorf("prove key at height %d: %w", height, err)
		}
		return nil
	})
	return value, proof, err
}

// atHeight runs fn on the tree of a recent height, pinned meanwhile.
func (s *Store) atHeight(height int64, fn func(*iavl.ImmutableTree) error) error {
	release, err := s.Pin(height)
	if err != nil {
		return err
	}
	defer release()
	t, err := s.tree.GetImmutable(version(height))
	if err != nil {
		return fmt.Errorf("state tree at height %d: %w", height, err)
	}
	return fn(t)
}

func (s *Store) getIn(t *iavl.ImmutableTree, key []byte) ([]byte, error) {
	v, err := t.Get(key)
	if err != nil {
		return nil, fmt.Errorf("state get: %w", s.damaged(err))
	}
	return v, nil
}

// RecordBlockHash writes block height's hash into the block's state and
// forgets the one that fell out of the recent window.
func RecordBlockHash(s *state.Overlay, height int64, hash []byte) {
	if height <= 0 || hash == nil {
		return
	}
	s.Set(BlockHashes.Key(heightBytes(height)), hash)
	if old := height - RecentBlocks; old > 0 {
		s.Delete(BlockHashes.Key(heightBytes(old)))
	}
}

// BlockDigest returns the encoded digest of a committed block (nil when
// the store has none: genesis, or a block before a state-sync restore).
func (s *Store) BlockDigest(height int64) ([]byte, error) {
	return s.get(digestKeys.Key(heightBytes(height)))
}

// BlockHash returns the hash of a recent committed block.
func (s *Store) BlockHash(height int64) ([]byte, bool, error) {
	v, err := s.Get(BlockHashes.Key(heightBytes(height)))
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
	it, err := s.committed.Iterator(prefix, prefixEnd(prefix), true)
	if err != nil {
		return fmt.Errorf("state iterate: %w", s.damaged(err))
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return s.damaged(it.Error())
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
