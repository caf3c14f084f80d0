package keyring

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/phala-go/phala/crypto/address"
)

// newKeyring returns a fast keyring in a directory that does not exist yet,
// so tests also cover its creation.
func newKeyring(t *testing.T) (*Keyring, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	return Open(dir, UnsafeFastKDF()), dir
}

func mustAdd(t *testing.T, k *Keyring, name, pass string) Info {
	t.Helper()
	info, err := k.Add(name, pass)
	if err != nil {
		t.Fatalf("Add(%q): %v", name, err)
	}
	return info
}

// checkInfo verifies that info describes priv.
func checkInfo(t *testing.T, info Info, priv ed25519.PrivateKey) {
	t.Helper()
	pub := priv.Public().(ed25519.PublicKey)
	if !bytes.Equal(info.PublicKey, pub) {
		t.Fatalf("public key %x, want %x", info.PublicKey, pub)
	}
	if info.Address != address.FromPublicKey(pub) {
		t.Fatalf("address %s, want %s", info.Address, address.FromPublicKey(pub))
	}
}

func TestAddLoadRoundTrip(t *testing.T) {
	tests := []struct {
		name, key, pass string
	}{
		{"empty passphrase", "dev", ""},
		{"ascii passphrase", "alice", "correct horse battery staple"},
		{"unicode passphrase", "bob.2", "pässwörd 🔑"},
		{"longest name", strings.Repeat("n", maxNameLen), "x"},
	}
	k, _ := newKeyring(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := mustAdd(t, k, tc.key, tc.pass)
			if info.Name != tc.key {
				t.Fatalf("Name = %q, want %q", info.Name, tc.key)
			}
			priv, err := k.Load(tc.key, tc.pass)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkInfo(t, info, priv)
			shown, err := k.Show(tc.key)
			if err != nil {
				t.Fatalf("Show: %v", err)
			}
			if shown.Name != info.Name || shown.Address != info.Address || !bytes.Equal(shown.PublicKey, info.PublicKey) {
				t.Fatalf("Show = %+v, want %+v", shown, info)
			}
			msg := []byte("transfer")
			if !ed25519.Verify(info.PublicKey, msg, ed25519.Sign(priv, msg)) {
				t.Fatal("loaded key does not sign for its public key")
			}
		})
	}
}

func TestAddGeneratesDistinctKeys(t *testing.T) {
	k, _ := newKeyring(t)
	a := mustAdd(t, k, "a", "")
	b := mustAdd(t, k, "b", "")
	if a.Address == b.Address {
		t.Fatal("two generated keys share an address")
	}
}

func TestWrongPassphrase(t *testing.T) {
	const right = "s3cret-passphrase"
	k, dir := newKeyring(t)
	mustAdd(t, k, "alice", right)
	path := filepath.Join(dir, "alice.key")
	wrong := []string{"", "s3cret-passphras", right + " ", strings.ToUpper(right), "wrong-guess-xyz"}
	ops := map[string]func(pass string) error{
		"Load": func(p string) error { _, err := k.Load("alice", p); return err },
		"Export": func(p string) error {
			_, err := k.Export("alice", p, "x")
			return err
		},
		"UnsafeExportSeed": func(p string) error { _, err := k.UnsafeExportSeed("alice", p); return err },
	}
	for _, pass := range wrong {
		for op, fn := range ops {
			err := fn(pass)
			if !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("%s with %q: error %v, want ErrWrongPassphrase", op, pass, err)
			}
			if errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: wrong passphrase also reported as corrupt: %v", op, err)
			}
			if want := "key file " + path + ": wrong passphrase"; err.Error() != want {
				t.Fatalf("%s: error %q, want %q", op, err, want)
			}
			if pass != "" && strings.Contains(err.Error(), pass) {
				t.Fatalf("%s: error %q contains the passphrase", op, err)
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	k, dir := newKeyring(t)
	path := filepath.Join(dir, "ghost.key")
	ops := map[string]func() error{
		"Show":             func() error { _, err := k.Show("ghost"); return err },
		"Load":             func() error { _, err := k.Load("ghost", ""); return err },
		"Export":           func() error { _, err := k.Export("ghost", "", ""); return err },
		"UnsafeExportSeed": func() error { _, err := k.UnsafeExportSeed("ghost", ""); return err },
		"Delete":           func() error { return k.Delete("ghost") },
	}
	for op, fn := range ops {
		err := fn()
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %v, want ErrNotFound", op, err)
			continue
		}
		if want := "key file " + path + " not found"; err.Error() != want {
			t.Errorf("%s: error %q, want %q", op, err, want)
		}
	}
}

func TestExportImportAcrossKeyrings(t *testing.T) {
	src, _ := newKeyring(t)
	dst, _ := newKeyring(t)
	info := mustAdd(t, src, "alice", "old")
	exported, err := src.Export("alice", "old", "transport")
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if bytes.Contains(exported, []byte("old")) || bytes.Contains(exported, []byte("transport")) {
		t.Fatal("exported file contains a passphrase")
	}

	tests := []struct {
		name     string
		data     []byte
		filePass string
		want     error
	}{
		{"wrong file passphrase", exported, "old", ErrWrongPassphrase},
		{"garbage", []byte("not a key file"), "transport", ErrCorrupt},
		{"truncated", exported[:len(exported)/2], "transport", ErrCorrupt},
		{"right passphrase", exported, "transport", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dst.ImportFile("bob", tc.data, tc.filePass, "new")
			if !errors.Is(err, tc.want) {
				t.Fatalf("ImportFile error %v, want %v", err, tc.want)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), importLabel) {
					t.Fatalf("error %q does not start with %q", err, importLabel)
				}
				if _, err := dst.Show("bob"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("failed import left a key behind: %v", err)
				}
				return
			}
			if got.Name != "bob" || got.Address != info.Address {
				t.Fatalf("imported %+v, want bob with %s", got, info.Address)
			}
			priv, err := dst.Load("bob", "new")
			if err != nil {
				t.Fatalf("Load under the new passphrase: %v", err)
			}
			checkInfo(t, info, priv)
			if _, err := dst.Load("bob", "transport"); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("export passphrase still opens the imported key: %v", err)
			}
		})
	}
}

func TestExportedFileOpensInPlace(t *testing.T) {
	// An exported file is an ordinary key file: dropped into a keyring
	// directory under any name, it opens with the export passphrase.
	src, _ := newKeyring(t)
	dst, dstDir := newKeyring(t)
	info := mustAdd(t, src, "alice", "pw")
	exported, err := src.Export("alice", "pw", "exp")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dstDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dstDir, "renamed.key"), exported, 0o600); err != nil {
		t.Fatal(err)
	}
	priv, err := dst.Load("renamed", "exp")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checkInfo(t, info, priv)
	shown, err := dst.Show("renamed")
	if err != nil || shown.Name != "renamed" {
		t.Fatalf("Show = %+v, %v; want the file name as Name", shown, err)
	}
}

func TestUnsafeExportSeedMatchesImport(t *testing.T) {
	k, _ := newKeyring(t)
	tests := []struct {
		name string
		seed []byte
	}{
		{"dev alice", DevSeed("alice")},
		{"all zero", make([]byte, ed25519.SeedSize)},
		{"all ff", bytes.Repeat([]byte{0xff}, ed25519.SeedSize)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "k" + string(rune('0'+i))
			info, err := k.ImportSeed(name, tc.seed, "pw")
			if err != nil {
				t.Fatalf("ImportSeed: %v", err)
			}
			checkInfo(t, info, ed25519.NewKeyFromSeed(tc.seed))
			got, err := k.UnsafeExportSeed(name, "pw")
			if err != nil {
				t.Fatalf("UnsafeExportSeed: %v", err)
			}
			if !bytes.Equal(got, tc.seed) {
				t.Fatalf("seed %x, want %x", got, tc.seed)
			}
		})
	}
}

func TestImportSeedRefusesWrongLength(t *testing.T) {
	k, _ := newKeyring(t)
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := k.ImportSeed("x", make([]byte, n), ""); err == nil {
			t.Errorf("ImportSeed accepted a %d-byte seed", n)
		}
	}
}

func TestListSorted(t *testing.T) {
	k, dir := newKeyring(t)
	if got, err := k.List(); err != nil || len(got) != 0 {
		t.Fatalf("List of a missing directory = %v, %v; want empty", got, err)
	}
	// File-name order differs from key-name order here: "a-b.key" comes
	// before "a.key", but "a" before "a-b".
	names := []string{"b", "a-b", "a", "A", "a.b", "z_9", "0"}
	for _, n := range names {
		mustAdd(t, k, n, "")
	}
	// Things that are not keys must be ignored.
	junk := map[string]string{
		"README":       "hello",
		".hidden.key":  "x",
		".tmp-123":     "x",
		"bad name.key": "x",
		"notes.txt":    "x",
	}
	for f, content := range junk {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.key"), 0o700); err != nil {
		t.Fatal(err)
	}

	got, err := k.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	var gotNames []string
	for _, info := range got {
		gotNames = append(gotNames, info.Name)
	}
	if !slices.Equal(gotNames, want) {
		t.Fatalf("List names %v, want %v", gotNames, want)
	}
}

func TestListReportsCorruptButReturnsTheRest(t *testing.T) {
	k, dir := newKeyring(t)
	mustAdd(t, k, "good", "")
	if err := os.WriteFile(filepath.Join(dir, "broken.key"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := k.List()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "broken.key") {
		t.Fatalf("List error %v, want ErrCorrupt naming broken.key", err)
	}
	if len(got) != 1 || got[0].Name != "good" {
		t.Fatalf("List = %+v, want just the good key", got)
	}
}

func TestInvalidNamesRefused(t *testing.T) {
	k, dir := newKeyring(t)
	mustAdd(t, k, "existing", "")
	exported, err := k.Export("existing", "", "")
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{
		"", ".", "..", ".hidden", "../escape", "a/b", `a\b`, "/abs", "a b",
		"tab\t", "nul\x00", "é", "colon:", "star*", "new\nline",
		strings.Repeat("a", maxNameLen+1),
	}
	ops := map[string]func(name string) error{
		"Add":              func(n string) error { _, err := k.Add(n, ""); return err },
		"ImportSeed":       func(n string) error { _, err := k.ImportSeed(n, DevSeed("x"), ""); return err },
		"ImportFile":       func(n string) error { _, err := k.ImportFile(n, exported, "", ""); return err },
		"Export":           func(n string) error { _, err := k.Export(n, "", ""); return err },
		"UnsafeExportSeed": func(n string) error { _, err := k.UnsafeExportSeed(n, ""); return err },
		"Show":             func(n string) error { _, err := k.Show(n); return err },
		"Load":             func(n string) error { _, err := k.Load(n, ""); return err },
		"Delete":           func(n string) error { return k.Delete(n) },
	}
	for _, name := range bad {
		for op, fn := range ops {
			if err := fn(name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("%s(%q): error %v, want ErrInvalidName", op, name, err)
			}
		}
	}
	// Nothing may have been written anywhere else.
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil || len(entries) != 1 {
		t.Fatalf("parent directory holds %v (%v), want only the keyring", entries, err)
	}
}

func TestValidNamesAccepted(t *testing.T) {
	k, _ := newKeyring(t)
	for _, name := range []string{"a", "Z", "0", "a.b", "a..b", "a-b_c", "trailing.", "-dash", "_u", strings.Repeat("x", maxNameLen)} {
		if _, err := k.ImportSeed(name, DevSeed(name), ""); err != nil {
			t.Errorf("ImportSeed(%q): %v", name, err)
		}
	}
}

func TestDuplicateNameRefused(t *testing.T) {
	k, dir := newKeyring(t)
	orig := mustAdd(t, k, "alice", "pw")
	exported, err := k.Export("alice", "pw", "e")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"Add":        func() error { _, err := k.Add("alice", "other"); return err },
		"ImportSeed": func() error { _, err := k.ImportSeed("alice", DevSeed("x"), "other"); return err },
		"ImportFile": func() error { _, err := k.ImportFile("alice", exported, "e", "other"); return err },
	}
	for op, fn := range ops {
		err := fn()
		if !errors.Is(err, ErrExists) {
			t.Fatalf("%s: error %v, want ErrExists", op, err)
		}
		if want := "key file " + filepath.Join(dir, "alice.key") + " already exists"; err.Error() != want {
			t.Fatalf("%s: error %q, want %q", op, err, want)
		}
	}
	priv, err := k.Load("alice", "pw")
	if err != nil {
		t.Fatalf("original key no longer opens: %v", err)
	}
	checkInfo(t, orig, priv)
}

func TestConcurrentAddOfOneName(t *testing.T) {
	k, dir := newKeyring(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = k.Add("race", "") })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrExists):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent Adds succeeded, want 1", won)
	}
	assertNoTempFiles(t, dir)
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	k, dir := newKeyring(t)
	mustAdd(t, k, "alice", "")
	tests := []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{filepath.Join(dir, "alice.key"), 0o600},
	}
	for _, tc := range tests {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != tc.want {
			t.Errorf("%s has mode %o, want %o", tc.path, got, tc.want)
		}
	}
	assertNoTempFiles(t, dir)
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestDelete(t *testing.T) {
	k, _ := newKeyring(t)
	mustAdd(t, k, "alice", "")
	mustAdd(t, k, "bob", "")
	if err := k.Delete("alice"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Show("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Show after Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	if _, err := k.Show("bob"); err != nil {
		t.Fatalf("Delete removed another key: %v", err)
	}
	// The name is free again.
	mustAdd(t, k, "alice", "")
}

func TestDefaultKDFParameters(t *testing.T) {
	dir := t.TempDir()
	k := Open(dir) // the real, slow parameters: one Argon2 run of 64 MiB
	if _, err := k.Add("real", "pw"); err != nil {
		t.Fatal(err)
	}
	var f fileJSON
	data, err := os.ReadFile(filepath.Join(dir, "real.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.KDF.Time != 3 || f.KDF.MemoryKiB != 64*1024 || f.KDF.Threads != 2 {
		t.Fatalf("kdf %+v, want time 3, memory_kib 65536, threads 2", f.KDF)
	}
	// A keyring with other write parameters opens it: reading uses the
	// parameters of the file.
	if _, err := Open(dir, UnsafeFastKDF()).Load("real", "pw"); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestDevSeed(t *testing.T) {
	tests := []struct {
		name, wantHex string
	}{
		// Computed independently with Python's hashlib.
		{"alice", "401b1e8e1bc2bcc3e5d12b1d4b24df16b9848456b53a6a325bcfd86a1bc878d4"},
		{"", "7cd04e1b6b3e899c067008c5b1c3fee3f39a87fc1b6e05d4fbcc1a4de0f9ece7"},
	}
	for _, tc := range tests {
		got := DevSeed(tc.name)
		if len(got) != ed25519.SeedSize || hexOf(got) != tc.wantHex {
			t.Errorf("DevSeed(%q) = %x, want %s", tc.name, got, tc.wantHex)
		}
	}
	if bytes.Equal(DevSeed("alice"), DevSeed("bob")) {
		t.Error("DevSeed gives two names one seed")
	}
}
