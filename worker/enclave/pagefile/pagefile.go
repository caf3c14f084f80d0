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
package pagefile

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/phala-go/phala/worker/enclave/statetree"
)

// MaxBlob bounds what a read takes from a page file. The largest page is
// one entry of the VM's largest key and value (1 KiB and 256 KiB) and its
// framing; a bigger file is the host's doing, read only this far, and
// then fails to authenticate.
const MaxBlob = 1 << 20

const tmpMarker = ".tmp-"

// Dir is the root directory of the contracts' page stores.
type Dir struct{ root string }

// Open opens (creating it if needed) the page directory root.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("contract state directory: %w", err)
	}
	return &Dir{root: root}, nil
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
	return &store{dir: filepath.Join(d.root, name)}
}

// Sync makes every page written so far durable (the runtime calls it
// before it seals a checkpoint naming their roots).
func (d *Dir) Sync() error { return syncDir(d.root) }

type store struct{ dir string }

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

// Put implements statetree.PageStore: a temporary file renamed over the
// page, so a crash leaves the old file or the new one. Not synced (Sync).
func (s *store) Put(id statetree.PageID, blob []byte) error {
	p := s.path(id)
	tmp, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+tmpMarker+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
			tmp, err = os.CreateTemp(filepath.Dir(p), filepath.Base(p)+tmpMarker+"*")
		}
	}
	if err != nil {
		return err
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
	return err
}

// Delete implements statetree.PageStore.
func (s *store) Delete(id statetree.PageID) error {
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
