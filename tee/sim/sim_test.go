package sim

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/phala-go/phala/tee"
)

var (
	measA = [32]byte{1, 2, 3}
	measB = [32]byte{4, 5, 6}
)

func newSim(t testing.TB, dir string, m [32]byte) *Sim {
	t.Helper()
	s, err := New(WithDir(dir), WithMeasurement(m), WithWarnings(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBannerPrinted(t *testing.T) {
	var buf bytes.Buffer
	if _, err := New(WithDir(t.TempDir()), WithMeasurement(measA), WithWarnings(&buf)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "sim TEE: no hardware protection; anyone with this machine can read every secret; for development only") {
		t.Fatalf("banner missing the warning:\n%s", out)
	}
	if n := strings.Count(out, "\nWARNING"); n < 2 {
		t.Fatalf("banner has %d WARNING lines, want a multi-line banner:\n%s", n, out)
	}
}

func TestDefaultMeasurementIsExecutableHash(t *testing.T) {
	s, err := New(WithDir(t.TempDir()), WithWarnings(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(b)
	if !bytes.Equal(s.Measurement(), want[:]) {
		t.Fatalf("measurement %x, want %x", s.Measurement(), want)
	}
	if s.Kind() != tee.KindSim {
		t.Fatalf("kind %q", s.Kind())
	}
	m := s.Measurement()
	m[0] ^= 1
	if bytes.Equal(m, s.Measurement()) {
		t.Fatal("Measurement returns the internal array")
	}
}

func TestSealRoundTripAndPersistence(t *testing.T) {
	dir := t.TempDir()
	s := newSim(t, dir, measA)
	for _, tc := range []struct {
		label     string
		plaintext []byte
	}{
		{"identity", []byte("ed25519 seed ..................")},
		{"checkpoint", bytes.Repeat([]byte{7}, 4096)},
		{"empty", nil},
	} {
		t.Run(tc.label, func(t *testing.T) {
			sealed, err := s.Seal(tc.label, tc.plaintext)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Unseal(tc.label, sealed)
			if err != nil || !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("Unseal = %x, %v", got, err)
			}
			// A restart of the same binary on the same machine reads it back.
			got, err = newSim(t, dir, measA).Unseal(tc.label, sealed)
			if err != nil || !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("after restart: Unseal = %x, %v", got, err)
			}
		})
	}
}

func TestUnsealRefused(t *testing.T) {
	dir := t.TempDir()
	s := newSim(t, dir, measA)
	sealed, err := s.Seal("identity", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-3] ^= 4
	for _, tc := range []struct {
		name  string
		sim   *Sim
		label string
		data  []byte
	}{
		{"other label", s, "checkpoint", sealed},
		{"tampered", s, "identity", tampered},
		{"other measurement", newSim(t, dir, measB), "identity", sealed},
		{"other machine", newSim(t, t.TempDir(), measA), "identity", sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.sim.Unseal(tc.label, tc.data); !errors.Is(err, tee.ErrUnsealFailed) {
				t.Fatalf("Unseal = %q, %v; want ErrUnsealFailed", got, err)
			}
		})
	}
}

func TestSecretFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	newSim(t, dir, measA)
	path := filepath.Join(dir, SecretFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("secret file mode %v size %d, want 0600 and 32", fi.Mode().Perm(), fi.Size())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("secret directory mode %v, want 0700", di.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("secret directory holds %d entries, want only the secret (temporary file left behind?)", len(entries))
	}
}

func TestConcurrentFirstStartAgree(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	sims := make([]*Sim, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sims[i], errs[i] = New(WithDir(dir), WithMeasurement(measA), WithWarnings(io.Discard))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := sims[0].Seal("x", []byte("shared"))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sims {
		if _, err := s.Unseal("x", sealed); err != nil {
			t.Fatalf("sim %d disagrees on the secret: %v", i, err)
		}
	}
}

func TestSecretErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) string // returns the directory
		want  string
	}{
		{"corrupt secret", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte("short"), 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "corrupt"},
		{"directory is a file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}, "sim TEE: read secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(WithDir(tc.setup(t)), WithMeasurement(measA), WithWarnings(io.Discard))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// fakeSigner stands in for the development signer: measurement || report data.
func fakeSigner(m [32]byte, rd [64]byte) []byte {
	return append(append([]byte("FAKE"), m[:]...), rd[:]...)
}

func TestQuoteBindsReportData(t *testing.T) {
	saved := signQuote
	t.Cleanup(func() { signQuote = saved })
	signQuote = fakeSigner
	s := newSim(t, t.TempDir(), measA)
	for _, tc := range []struct {
		name string
		rd   [64]byte
	}{
		{"zero", [64]byte{}},
		{"pattern", [64]byte{0: 1, 31: 2, 63: 3}},
		{"hash", func() (rd [64]byte) { h := sha256.Sum256([]byte("key")); copy(rd[:], h[:]); return }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := s.Quote(tc.rd)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q, fakeSigner(measA, tc.rd)) {
				t.Fatalf("quote %x does not bind the measurement and report data", q)
			}
		})
	}
}

func TestQuoteWithoutSigner(t *testing.T) {
	saved := signQuote
	t.Cleanup(func() { signQuote = saved })
	s := newSim(t, t.TempDir(), measA)
	for _, tc := range []struct {
		name   string
		signer func([32]byte, [64]byte) []byte
	}{
		{"nil signer", nil},
		{"empty quote", func([32]byte, [64]byte) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signQuote = tc.signer
			if q, err := s.Quote([64]byte{}); err == nil {
				t.Fatalf("Quote = %x, want an error", q)
			}
		})
	}
}

func FuzzUnseal(f *testing.F) {
	s := newSim(f, f.TempDir(), measA)
	sealed, err := s.Seal("fuzz", []byte("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte("PHSL\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := s.Unseal("fuzz", data)
		if err == nil && string(got) != "seed" {
			t.Fatalf("forged sealed data opened: %x", data)
		}
		if err != nil && !errors.Is(err, tee.ErrUnsealFailed) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
