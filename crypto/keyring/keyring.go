// Package keyring keeps ed25519 account keys in a directory, one
// passphrase-encrypted file per key.
//
// # Files
//
// The key called name lives in <dir>/<name>.key (mode 0600; the directory is
// created with mode 0700, an existing one is left as it is). The file is
// JSON:
//
//	{
//	  "version": 1,
//	  "name": "alice",
//	  "address": "pha1...",
//	  "public_key": "<hex, 32 bytes>",
//	  "kdf": {"alg": "argon2id", "time": 3, "memory_kib": 65536, "threads": 2, "salt": "<hex, 16 bytes>"},
//	  "cipher": "xchacha20poly1305",
//	  "nonce": "<hex, 24 bytes>",
//	  "ciphertext": "<hex, 48 bytes>",
//	  "key_check": "<hex, 16 bytes>"
//	}
//
// The passphrase is stretched by Argon2id into a 32-byte key, which encrypts
// the 32-byte ed25519 seed with XChaCha20-Poly1305. The additional data binds
// the version and every header field except the name, so a renamed file
// still opens but one with a swapped public key, address or KDF parameters
// does not. key_check, a hash of the derived key, separates a wrong
// passphrase from a modified file. Show and List read only the public
// header and need no passphrase. The file's "name" field is informational:
// the file name is what identifies a key.
//
// The same format serves exports (Export, ImportFile).
//
// # Names
//
// A key name has 1 to 64 characters of a-z, A-Z, 0-9, '.', '_' and '-' and
// does not start with '.'; anything else is refused with ErrInvalidName, so
// a name can never reach outside the directory. On case-insensitive file
// systems "Alice" and "alice" are the same file; the keyring then reports
// ErrExists rather than overwrite.
//
// # Errors
//
// Errors wrap ErrNotFound, ErrExists, ErrWrongPassphrase, ErrCorrupt or
// ErrInvalidName and name the file concerned. Decoding never panics on a
// malformed file. A modified KDF parameter or salt cannot be told apart from
// a wrong passphrase, since the passphrase is only checked through the KDF;
// every other modification is reported as ErrCorrupt.
//
// Passphrases may be empty (for throwaway development keys) and are never
// included in errors. Secrets are wiped from memory after use on a
// best-effort basis; Go cannot guarantee that no copy remains.
//
// The package only touches files: it never prints, reads standard input or
// exits. A Keyring has no mutable state and is safe for concurrent use; a
// key is written under a temporary name and linked into place, so readers
// never see a half-written file and two writers of one name cannot both
// succeed.
package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phala-go/phala/crypto/address"
)

// fileExt ends every key file name.
const fileExt = ".key"

// importLabel names an imported file in errors, since it has no path.
const importLabel = "imported key file"

// Keyring is a directory of key files.
type Keyring struct {
	dir string
	kdf kdfParams
}

// Info is the public side of a key.
type Info struct {
	Name      string
	Address   address.Address
	PublicKey ed25519.PublicKey
}

// Option configures Open.
type Option func(*Keyring)

// UnsafeFastKDF makes the keyring encrypt with Argon2id time 1, 64 KiB of
// memory and 1 thread instead of time 3, 64 MiB and 2 threads. That makes
// guessing the passphrase of a stolen file thousands of times cheaper:
// use it in tests only, never for keys of value. It does not affect opening,
// which always uses the parameters stored in the file.
func UnsafeFastKDF() Option {
	return func(k *Keyring) { k.kdf = fastKDF }
}

// Open returns the keyring in dir. Nothing is touched until a method needs
// it; the directory is created by the first key written.
func Open(dir string, opts ...Option) *Keyring {
	k := &Keyring{dir: dir, kdf: defaultKDF}
	for _, opt := range opts {
		opt(k)
	}
	return k
}

// Add generates a new key called name, encrypted under passphrase.
func (k *Keyring) Add(name, passphrase string) (Info, error) {
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if _, err := rand.Read(seed); err != nil {
		return Info{}, fmt.Errorf("generating key: %w", err)
	}
	return k.store(name, seed, passphrase)
}

// ImportSeed stores the key with the given 32-byte ed25519 seed (see
// DevSeed) under name, encrypted under passphrase.
func (k *Keyring) ImportSeed(name string, seed []byte, passphrase string) (Info, error) {
	if len(seed) != ed25519.SeedSize {
		return Info{}, fmt.Errorf("importing key %q: seed is %d bytes, want %d", name, len(seed), ed25519.SeedSize)
	}
	return k.store(name, seed, passphrase)
}

// ImportFile stores the key of an exported key file (from Export) under
// name, re-encrypted under newPassphrase. filePassphrase is the one the file
// was exported with.
func (k *Keyring) ImportFile(name string, data []byte, filePassphrase, newPassphrase string) (Info, error) {
	// Check the target before the costly decryption.
	if err := k.checkFree(name); err != nil {
		return Info{}, err
	}
	s, err := decodeKeyFile(data)
	if err != nil {
		return Info{}, fileError(importLabel, err)
	}
	seed, err := s.open(filePassphrase)
	if err != nil {
		return Info{}, fileError(importLabel, err)
	}
	defer clear(seed)
	return k.store(name, seed, newPassphrase)
}

// Export returns the key called name as a key file encrypted under
// exportPassphrase, for ImportFile on another keyring. passphrase is the
// key's current one.
func (k *Keyring) Export(name, passphrase, exportPassphrase string) ([]byte, error) {
	seed, err := k.openSeed(name, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(seed)
	s, err := seal(rand.Reader, name, seed, exportPassphrase, k.kdf)
	if err != nil {
		return nil, fmt.Errorf("exporting key %q: %w", name, err)
	}
	return s.encode(), nil
}

// UnsafeExportSeed returns the raw 32-byte seed of the key called name. The
// seed is the whole private key, unprotected: it exists for scripts, and the
// name is meant to make every caller think twice.
func (k *Keyring) UnsafeExportSeed(name, passphrase string) ([]byte, error) {
	return k.openSeed(name, passphrase)
}

// Load decrypts the key called name. It checks that the decrypted key's
// public key and address are the ones the file shows.
func (k *Keyring) Load(name, passphrase string) (ed25519.PrivateKey, error) {
	seed, err := k.openSeed(name, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// Show returns the public side of the key called name, from the file's
// header; it needs no passphrase.
func (k *Keyring) Show(name string) (Info, error) {
	s, err := k.read(name)
	if err != nil {
		return Info{}, err
	}
	return s.info(name), nil
}

// List returns every key of the keyring, sorted by name; a missing directory
// is an empty keyring. Files that do not end in ".key" or whose names are not
// key names are ignored. If some key files cannot be read, List still returns
// the others, together with an error that joins the failures.
func (k *Keyring) List() ([]Info, error) {
	entries, err := os.ReadDir(k.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing keyring %s: %w", k.dir, err)
	}
	infos := []Info{}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), fileExt)
		if !ok || e.IsDir() || checkName(name) != nil {
			continue
		}
		info, err := k.Show(name)
		switch {
		case errors.Is(err, ErrNotFound):
			// Deleted since ReadDir; not an error.
		case err != nil:
			errs = append(errs, err)
		default:
			infos = append(infos, info)
		}
	}
	// Sort by key name, not file name: "a-b.key" sorts before "a.key",
	// but "a" before "a-b".
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return infos, errors.Join(errs...)
}

// Delete removes the key called name. Without a backup or export, the key is
// gone for good; the caller is expected to have confirmed.
func (k *Keyring) Delete(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	path := k.path(name)
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("key file %s %w", path, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("deleting key file %s: %w", path, err)
	}
	return nil
}

func (k *Keyring) path(name string) string {
	return filepath.Join(k.dir, name+fileExt)
}

// read loads and validates the key file of name.
func (k *Keyring) read(name string) (*sealedKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	path := k.path(name)
	data, err := readLimited(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading key file %s: %w", path, err)
	}
	s, err := decodeKeyFile(data)
	if err != nil {
		return nil, fileError("key file "+path, err)
	}
	return s, nil
}

// readLimited reads at most one byte more than a key file may have, so a
// huge file is refused without being read whole.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFileSize+1))
}

// openSeed reads and decrypts the seed of name. The caller clears it.
func (k *Keyring) openSeed(name, passphrase string) ([]byte, error) {
	s, err := k.read(name)
	if err != nil {
		return nil, err
	}
	seed, err := s.open(passphrase)
	if err != nil {
		return nil, fileError("key file "+k.path(name), err)
	}
	return seed, nil
}

// checkFree fails unless name is valid and not taken. It is an early,
// friendly check only: writeNew is what guarantees no overwrite.
func (k *Keyring) checkFree(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	path := k.path(name)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("key file %s %w", path, ErrExists)
	}
	return nil
}

// store encrypts seed under passphrase and writes it as the new key name.
func (k *Keyring) store(name string, seed []byte, passphrase string) (Info, error) {
	if err := k.checkFree(name); err != nil {
		return Info{}, err
	}
	s, err := seal(rand.Reader, name, seed, passphrase, k.kdf)
	if err != nil {
		return Info{}, fmt.Errorf("encrypting key %q: %w", name, err)
	}
	if err := k.writeNew(k.path(name), s.encode()); err != nil {
		return Info{}, err
	}
	return s.info(name), nil
}

// writeNew creates path with data, failing with ErrExists if it exists. The
// data goes to a temporary file first (CreateTemp makes it mode 0600; its
// name starts with '.', so List never takes it for a key), which is then
// hard-linked into place: the link is atomic and never replaces a file.
func (k *Keyring) writeNew(path string, data []byte) error {
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return fmt.Errorf("creating keyring directory: %w", err)
	}
	tmp, err := os.CreateTemp(k.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("saving key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeAndClose(tmp, data); err != nil {
		return fmt.Errorf("saving key file %s: %w", path, err)
	}
	err = os.Link(tmp.Name(), path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// Some file systems have no hard links; exclusive creation is
		// the next best thing (not atomic, but never overwrites).
		err = writeExclusive(path, data)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key file %s %w", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("saving key file %s: %w", path, err)
	}
	syncDir(k.dir)
	return nil
}

// writeAndClose writes data durably: a key file that vanished in a crash
// would be a lost key.
func writeAndClose(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := writeAndClose(f, data); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// syncDir makes the new directory entry durable. It is best effort: some
// systems cannot sync a directory, and the file itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
