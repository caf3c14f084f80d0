package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// DefaultInterval is how often validators snapshot unless told otherwise:
// every 1,000 blocks keeps a joining node's block sync short without
// spending much of a validator's disk or CPU.
const DefaultInterval = 1000

// DefaultKeep is how many snapshots stay on disk: the newest and the one
// before, so a node still fetching the older one is not cut off.
const DefaultKeep = 2

// Options configure a Manager.
type Options struct {
	Dir      string // where snapshots live, one directory per height
	Interval int64  // snapshot every Interval heights; 0 turns snapshots off
	Keep     int    // how many to keep (0: DefaultKeep)
}

// Manager takes snapshots in one background goroutine and serves them.
// Commit only hands it a pinned export (cheap); the export, compression and
// disk writes happen off the consensus path. When a snapshot is still
// being taken, the next height due is skipped rather than queued.
type Manager struct {
	chainID string
	store   *store.Store
	opts    Options
	log     *slog.Logger

	jobs   chan job
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	list   []Snapshot          // newest last
	served map[int64]time.Time // height → when a chunk of it was last served
}

// servingGrace keeps a snapshot beyond Keep while a peer fetched a chunk of
// it this recently: CometBFT's state sync cannot switch snapshots when one
// vanishes mid-fetch (a missing chunk is refetched forever), so a node
// never deletes a snapshot out from under a joining node.
const servingGrace = 2 * time.Minute

// Snapshot is one snapshot on disk.
type Snapshot struct {
	Meta Metadata
	Dir  string
}

type job struct {
	exp  *store.Export
	meta Metadata // everything but the chunk hashes
	app  []byte   // the app hash the metadata must reproduce
}

// NewManager opens the snapshot directory (dropping unfinished ones) and
// starts the background loop; Close stops it.
func NewManager(chainID string, s *store.Store, o Options, log *slog.Logger) (*Manager, error) {
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.Interval < 0 {
		return nil, fmt.Errorf("snapshot interval %d is negative", o.Interval)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot directory: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{chainID: chainID, store: s, opts: o, log: log, jobs: make(chan job, 1), cancel: cancel, done: make(chan struct{}),
		served: map[int64]time.Time{}}
	if err := m.scan(); err != nil {
		cancel()
		return nil, err
	}
	go m.run(ctx)
	return m, nil
}

// Close stops the loop, abandoning a snapshot in progress (its directory
// is dropped at the next start), and waits for it.
func (m *Manager) Close() {
	m.once.Do(func() {
		m.cancel()
		<-m.done
	})
}

// Committed tells the manager height was committed with meta; at a multiple
// of the interval it starts a snapshot of it. It never blocks.
func (m *Manager) Committed(meta store.Meta) {
	h := meta.Height
	if m.opts.Interval == 0 || h < 1 || h%m.opts.Interval != 0 {
		return
	}
	j, err := m.prepare(meta)
	if err != nil {
		m.log.Warn("snapshot skipped", "height", h, "err", err)
		return
	}
	select {
	case m.jobs <- j:
	default:
		j.exp.Close()
		m.log.Warn("snapshot skipped: the previous one is still being taken", "height", h)
	}
}

// prepare reads what the metadata needs while it is surely kept (the
// previous app hash and the block's digest), and pins the tree.
func (m *Manager) prepare(meta store.Meta) (job, error) {
	h := meta.Height
	prev, ok, err := m.store.AppHash(h - 1)
	if err != nil || !ok {
		return job{}, fmt.Errorf("app hash of height %d: %w", h-1, errOr(err, "not kept"))
	}
	raw, err := m.store.BlockDigest(h)
	if err != nil || raw == nil {
		return job{}, fmt.Errorf("digest of block %d: %w", h, errOr(err, "not kept"))
	}
	var d mq.Block
	if err := codec.Unmarshal(raw, &d); err != nil {
		return job{}, fmt.Errorf("digest of block %d: %w", h, err)
	}
	exp, err := m.store.OpenExport(h)
	if err != nil {
		return job{}, err
	}
	root := mq.Root(m.chainID, d.Messages)
	md := Metadata{Version: Format, Height: h, StateRoot: exp.Root(), PrevAppHash: prev, MessagesRoot: root[:], BlockTime: meta.Time}
	return job{exp: exp, meta: md, app: meta.AppHash}, nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

func (m *Manager) run(ctx context.Context) {
	defer close(m.done)
	for {
		select {
		case <-ctx.Done():
			m.drain()
			return
		case j := <-m.jobs:
			start := time.Now()
			s, st, err := m.take(ctx, j)
			j.exp.Close()
			if err != nil {
				m.log.Warn("snapshot failed", "height", j.meta.Height, "err", err)
				continue
			}
			m.add(s)
			m.log.Info("snapshot taken", "height", j.meta.Height, "nodes", st.Nodes, "raw_bytes", st.RawBytes,
				"bytes", st.Bytes, "chunks", st.Chunks, "took", time.Since(start).Round(time.Millisecond))
		}
	}
}

func (m *Manager) drain() {
	for {
		select {
		case j := <-m.jobs:
			j.exp.Close()
		default:
			return
		}
	}
}

// take writes one snapshot into a temporary directory and renames it into
// place, so a listed snapshot is always complete.
func (m *Manager) take(ctx context.Context, j job) (Snapshot, Stats, error) {
	// Never serve a snapshot that would not verify.
	if got := j.meta.AppHash(m.chainID); string(got) != string(j.app) {
		return Snapshot{}, Stats{}, fmt.Errorf("metadata implies app hash %X, height %d committed %X", got, j.meta.Height, j.app)
	}
	final := m.heightDir(j.meta.Height)
	tmp := final + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return Snapshot{}, Stats{}, err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return Snapshot{}, Stats{}, err
	}
	hashes, st, err := writeChunks(ctx, tmp, j.exp)
	if err == nil {
		j.meta.ChunkHashes = hashes
		err = writeFileSync(filepath.Join(tmp, metadataFile), j.meta.Encode())
	}
	if err == nil {
		_ = os.RemoveAll(final)
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return Snapshot{}, st, err
	}
	return Snapshot{Meta: j.meta, Dir: final}, st, nil
}

const metadataFile = "metadata"

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Sync(), f.Close())
}

func (m *Manager) heightDir(h int64) string {
	return filepath.Join(m.opts.Dir, strconv.FormatInt(h, 10))
}

// add lists a new snapshot and deletes the oldest beyond Keep, except
// those being served (servingGrace).
func (m *Manager) add(s Snapshot) {
	m.mu.Lock()
	m.list = append(m.list, s)
	var drop, keep []Snapshot
	extra := len(m.list) - m.opts.Keep
	for i, old := range m.list {
		if i < extra && time.Since(m.served[old.Meta.Height]) > servingGrace {
			drop = append(drop, old)
			delete(m.served, old.Meta.Height)
		} else {
			keep = append(keep, old)
		}
	}
	m.list = keep
	m.mu.Unlock()
	for _, d := range drop {
		if err := os.RemoveAll(d.Dir); err != nil {
			m.log.Warn("removing old snapshot", "height", d.Meta.Height, "err", err)
		}
	}
}

// scan lists the complete snapshots on disk and drops unfinished ones.
func (m *Manager) scan() error {
	entries, err := os.ReadDir(m.opts.Dir)
	if err != nil {
		return fmt.Errorf("snapshot directory: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(m.opts.Dir, e.Name())
		h, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() {
			_ = os.RemoveAll(path) // a .tmp left by a crash, or a restore's scratch
			continue
		}
		raw, err := os.ReadFile(filepath.Join(path, metadataFile))
		md, derr := DecodeMetadata(raw)
		if err != nil || derr != nil || md.Height != h {
			_ = os.RemoveAll(path)
			continue
		}
		m.list = append(m.list, Snapshot{Meta: md, Dir: path})
	}
	slices.SortFunc(m.list, func(a, b Snapshot) int { return int(a.Meta.Height - b.Meta.Height) })
	return nil
}

// List returns the snapshots on disk, oldest first.
func (m *Manager) List() []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.list)
}

// LoadChunk reads chunk index of the snapshot at height (nil if there is
// no such snapshot or chunk any more). The lookup marks the snapshot as
// served under the same lock add deletes under, so a snapshot found here
// is not deleted while it is being fetched.
func (m *Manager) LoadChunk(height int64, format uint32, index uint32) ([]byte, error) {
	if format != Format {
		return nil, nil
	}
	dir := ""
	m.mu.Lock()
	for _, s := range m.list {
		if s.Meta.Height == height && int(index) < len(s.Meta.ChunkHashes) {
			dir = s.Dir
			m.served[height] = time.Now()
		}
	}
	m.mu.Unlock()
	if dir == "" {
		return nil, nil
	}
	return os.ReadFile(ChunkFile(dir, int(index)))
}
