// Package pagefile keeps contracts' state pages (package statetree) in
// files under a directory of the worker's home: one directory per
// contract, one file per page named by its id, spread over subdirectories
// by the id's first byte so no directory grows huge. The runtime owns it
// and hands each contract's store to the contracts module, which does no
// I/O itself.
//
// Nothing here is trusted: the files hold sealed pages that the tree
// authenticates against the ids it reaches from a root in the sealed
// checkpoint. Writes are atomic (a temporary file renamed over the page)
// but not synced one by one: Sync makes everything written durable, and
// the runtime calls it before sealing a checkpoint that names the roots,
// so a checkpoint never names a page a crash of the machine could lose.
//
// Deleted pages' files are kept in a pool (the .free directory, up to
// poolSize) and rewritten for new pages: creating a file costs a file
// system an inode and a directory entry (half a millisecond on this
// project's test machine), renaming one about a tenth of that.
package pagefile

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/phala-go/phala/worker/enclave/statetree"
)

// MaxBlob bounds what a read takes from a page file. The largest page is
// one entry of the VM's largest key and value (1 KiB and 256 KiB) and its
// framing; a bigger file is the host's doing, read only this far, and
// then fails to authenticate.
const MaxBlob = 1 << 20

const (
	tmpMarker = ".tmp-"
	freeDir   = ".free"
	// poolSize bounds the files kept for reuse (some 4 KiB each).
	poolSize = 4096
)

// Dir is the root directory of the contracts' page stores. Its stores are
// written by one goroutine at a time (the tree's writer) and read by any.
type Dir struct {
	root string

	mu   sync.Mutex
	pool []string // names in .free
	next uint64   // the next name for a file entering the pool
}

// Open opens (creating it if needed) the page directory root.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, freeDir), 0o700); err != nil {
		return nil, fmt.Errorf("contract state directory: %w", err)
	}
	d := &Dir{root: root}
	free, err := os.ReadDir(filepath.Join(root, freeDir))
	if err != nil {
		return nil, fmt.Errorf("contract state directory: %w", err)
	}
	for _, f := range free {
		n, err := strconv.ParseUint(f.Name(), 10, 64)
		switch {
		case err != nil || !f.Type().IsRegular() || len(d.pool) >= poolSize:
			_ = os.Remove(filepath.Join(root, freeDir, f.Name()))
		default:
			d.pool = append(d.pool, f.Name())
			d.next = max(d.next, n+1)
		}
	}
	return d, nil
}

// take is a pooled file's path to rewrite, if any.
func (d *Dir) take() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pool) == 0 {
		return "", false
	}
	name := d.pool[len(d.pool)-1]
	d.pool = d.pool[:len(d.pool)-1]
	return filepath.Join(d.root, freeDir, name), true
}

// recycle moves a deleted page's file into the pool, or removes it when
// the pool is full.
func (d *Dir) recycle(path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pool) >= poolSize {
		return os.Remove(path)
	}
	name := strconv.FormatUint(d.next, 10)
	if err := os.Rename(path, filepath.Join(d.root, freeDir, name)); err != nil {
		return err
	}
	d.next++
	d.pool = append(d.pool, name)
	return nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.root }

// Store is the page store of one tree, named by name (a contract id in
// hex: letters, digits, '-' and '_' only). Its directory is created on the
// first write.
func (d *Dir) Store(name string) statetree.PageStore {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		// The module names stores by hex ids; anything else is a bug, and
		// must not become a path.
		name = "invalid-" + hex.EncodeToString([]byte(name))
	}
	return &store{d: d, dir: filepath.Join(d.root, name)}
}

// Sync makes every page written so far durable (the runtime calls it
// before it seals a checkpoint naming their roots).
func (d *Dir) Sync() error { return syncDir(d.root) }

type store struct {
	d   *Dir
	dir string
}

func (s *store) path(id statetree.PageID) string {
	name := id.String()
	return filepath.Join(s.dir, name[:2], name)
}

// Get implements statetree.PageStore.
func (s *store) Get(id statetree.PageID) ([]byte, error) {
	f, err := os.Open(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", statetree.ErrNotFound, s.path(id))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxBlob+1))
}

// Put implements statetree.PageStore: the blob written to a pooled file
// or a new temporary one, renamed over the page, so a crash leaves the old
// file or the new one. Not synced (Sync).
func (s *store) Put(id statetree.PageID, blob []byte) (bool, error) {
	p := s.path(id)
	_, err := os.Lstat(p)
	fresh := errors.Is(err, fs.ErrNotExist)
	if pooled, ok := s.d.take(); ok {
		if err := rewrite(pooled, blob); err == nil {
			if err = renameInto(pooled, p); err == nil {
				return fresh, nil
			}
		}
		_ = os.Remove(pooled) // a file the pool cannot use; write a new one
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+tmpMarker+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
			tmp, err = os.CreateTemp(filepath.Dir(p), filepath.Base(p)+tmpMarker+"*")
		}
	}
	if err != nil {
		return false, err
	}
	_, err = tmp.Write(blob)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return fresh, err
}

// rewrite overwrites a pooled file with blob. Not truncated first: freeing
// the file's blocks to allocate them again costs about as much as a new
// file; the old bytes past blob's end are cut after.
func rewrite(path string, blob []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(blob)
	if err == nil {
		err = f.Truncate(int64(len(blob)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// renameInto renames from to to, creating to's directory if needed.
func renameInto(from, to string) error {
	err := os.Rename(from, to)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(to), 0o700); err == nil {
			err = os.Rename(from, to)
		}
	}
	return err
}

// Delete implements statetree.PageStore: the file goes to the pool.
func (s *store) Delete(id statetree.PageID) error {
	if err := s.d.recycle(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List implements statetree.PageStore. It also removes temporary files a
// crash left behind (the tree never lists while it puts). Files whose
// names are not page ids are left alone and not listed.
func (s *store) List(fn func(statetree.PageID)) error {
	subs, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, sub.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			name := f.Name()
			if strings.Contains(name, tmpMarker) {
				_ = os.Remove(filepath.Join(s.dir, sub.Name(), name))
				continue
			}
			var id statetree.PageID
			if b, err := hex.DecodeString(name); err == nil && len(b) == len(id) && strings.HasPrefix(name, sub.Name()) {
				copy(id[:], b)
				fn(id)
			}
		}
	}
	return nil
}
