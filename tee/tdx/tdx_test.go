package tdx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phala-go/phala/tee"
)

var (
	mrtdA = bytes.Repeat([]byte{0xaa}, mrtdSize)
	mrtdB = bytes.Repeat([]byte{0xbb}, mrtdSize)
)

// fakeQuote is the shape of a TDX quote: header, TD report body and a dummy
// signature section.
func fakeQuote(version uint16, mrtd, reportData []byte) []byte {
	off := quoteHeaderSize
	if version == 5 {
		off += quoteV5BodyHeader
	}
	q := make([]byte, off+tdReportSize+100)
	binary.LittleEndian.PutUint16(q[0:], version)
	binary.LittleEndian.PutUint16(q[2:], 2) // ECDSA-P256
	binary.LittleEndian.PutUint32(q[4:], teeTypeTDX)
	if version == 5 {
		binary.LittleEndian.PutUint16(q[quoteHeaderSize:], 2)
		binary.LittleEndian.PutUint32(q[quoteHeaderSize+2:], tdReportSize)
	}
	copy(q[off+mrtdOffset:], mrtd)
	copy(q[off+reportDataOffset:], reportData)
	return q
}

// fakeConfigfs emulates configfs-tsm on a real directory tree: Mkdir
// populates the entry with its attribute files, writing inblob bumps
// generation and makes outblob a quote over what was written. All file
// access by the platform still goes through OSReportDir.
type fakeConfigfs struct {
	OSReportDir
	t            testing.TB
	provider     string
	mrtd         []byte
	version      uint16
	interference int // outblob reads that see another writer's inblob write
	mkdirs       []string
	inblobWrites int
}

func newFake(t testing.TB) *fakeConfigfs {
	dir := filepath.Join(t.TempDir(), filepath.FromSlash(ReportSubdir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &fakeConfigfs{OSReportDir: OSReportDir{Path: dir}, t: t, provider: Provider + "\n", mrtd: mrtdA, version: 4}
}

func (f *fakeConfigfs) attr(entry, attr string) string { return filepath.Join(f.Path, entry, attr) }

func (f *fakeConfigfs) set(entry, attr string, data []byte) {
	f.t.Helper()
	if err := os.WriteFile(f.attr(entry, attr), data, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeConfigfs) get(entry, attr string) []byte {
	f.t.Helper()
	b, err := os.ReadFile(f.attr(entry, attr))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fakeConfigfs) bumpGeneration(entry string) {
	f.t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(string(f.get(entry, "generation"))))
	if err != nil {
		f.t.Fatal(err)
	}
	f.set(entry, "generation", fmt.Appendf(nil, "%d\n", n+1))
}

func (f *fakeConfigfs) Mkdir(entry string) error {
	if err := f.OSReportDir.Mkdir(entry); err != nil {
		return err
	}
	f.mkdirs = append(f.mkdirs, entry)
	f.set(entry, "provider", []byte(f.provider))
	f.set(entry, "generation", []byte("0\n"))
	f.set(entry, "inblob", nil)
	f.set(entry, "outblob", nil)
	return nil
}

func (f *fakeConfigfs) WriteFile(entry, attr string, data []byte) error {
	if err := f.OSReportDir.WriteFile(entry, attr, data); err != nil {
		return err
	}
	if attr == "inblob" {
		f.inblobWrites++
		f.bumpGeneration(entry)
		f.set(entry, "outblob", fakeQuote(f.version, f.mrtd, f.get(entry, "inblob")))
	}
	return nil
}

func (f *fakeConfigfs) ReadFile(entry, attr string) ([]byte, error) {
	if attr == "outblob" && f.interference > 0 {
		f.interference--
		f.bumpGeneration(entry) // another process wrote inblob meanwhile
		f.set(entry, "outblob", fakeQuote(f.version, f.mrtd, []byte("someone else")))
	}
	return f.OSReportDir.ReadFile(entry, attr)
}

// Remove is rmdir on configfs; on the fake tree the attribute files go too.
func (f *fakeConfigfs) Remove(entry string) error {
	for _, a := range []string{"provider", "generation", "inblob", "outblob"} {
		if err := os.Remove(f.attr(entry, a)); err != nil {
			return err
		}
	}
	return f.OSReportDir.Remove(entry)
}

func (f *fakeConfigfs) assertClean() {
	f.t.Helper()
	entries, err := os.ReadDir(f.Path)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(entries) != 0 {
		f.t.Fatalf("%d report entries left behind", len(entries))
	}
}

func newGuest(t testing.TB, f *fakeConfigfs, opts ...Option) *Guest {
	t.Helper()
	g, err := New(append([]Option{WithReportDir(f)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func keyFile(t testing.TB, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sealing.key")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNewReadsMRTD(t *testing.T) {
	for _, version := range []uint16{4, 5} {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			f := newFake(t)
			f.version = version
			g := newGuest(t, f)
			if g.Kind() != tee.KindTDX {
				t.Fatalf("kind %q", g.Kind())
			}
			if !bytes.Equal(g.Measurement(), mrtdA) {
				t.Fatalf("measurement %x, want MRTD %x", g.Measurement(), mrtdA)
			}
			f.assertClean()
		})
	}
}

func TestMRTDOffsetsMatchIntelLayout(t *testing.T) {
	// TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48, SEAMATTRIBUTES 8,
	// TDATTRIBUTES 8, XFAM 8, then MRTD; REPORTDATA is the last 64 bytes of
	// the 584-byte TD report 1.0.
	if mrtdOffset != 136 || reportDataOffset != 520 || reportDataOffset+64 != tdReportSize {
		t.Fatalf("offsets MRTD %d, REPORTDATA %d", mrtdOffset, reportDataOffset)
	}
}

func TestQuoteBindsReportData(t *testing.T) {
	f := newFake(t)
	g := newGuest(t, f)
	for _, tc := range []struct {
		name string
		rd   [64]byte
	}{
		{"zero", [64]byte{}},
		{"pattern", [64]byte{0: 1, 32: 2, 63: 3}},
		{"all ones", [64]byte(bytes.Repeat([]byte{0xff}, 64))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var written []byte
			// Capture inblob before the entry is removed.
			f.mkdirs = nil
			writes := f.inblobWrites
			spy := &spyDir{fakeConfigfs: f, onOutblob: func(entry string) { written = f.get(entry, "inblob") }}
			g.reports = spy
			q, err := g.Quote(tc.rd)
			if err != nil {
				t.Fatal(err)
			}
			if f.inblobWrites != writes+1 || len(f.mkdirs) != 1 {
				t.Fatalf("%d inblob writes in %d entries, want 1 in 1", f.inblobWrites-writes, len(f.mkdirs))
			}
			if !bytes.Equal(written, tc.rd[:]) {
				t.Fatalf("inblob holds %x, want %x", written, tc.rd)
			}
			if !bytes.Equal(q, fakeQuote(4, mrtdA, tc.rd[:])) {
				t.Fatal("Quote did not return the outblob over the report data")
			}
			f.assertClean()
		})
	}
}

// spyDir calls onOutblob just before outblob is read.
type spyDir struct {
	*fakeConfigfs
	onOutblob func(entry string)
}

func (s *spyDir) ReadFile(entry, attr string) ([]byte, error) {
	if attr == "outblob" {
		s.onOutblob(entry)
	}
	return s.fakeConfigfs.ReadFile(entry, attr)
}

func TestUniqueEntries(t *testing.T) {
	f := newFake(t)
	g := newGuest(t, f)
	for range 3 {
		if _, err := g.Quote([64]byte{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, e := range f.mkdirs {
		if seen[e] {
			t.Fatalf("entry %s reused", e)
		}
		seen[e] = true
	}
	f.assertClean()
}

func TestConcurrentWriter(t *testing.T) {
	for _, tc := range []struct {
		name         string
		interference int
		wantErr      bool
	}{
		{"none", 0, false},
		{"once, then retried", 1, false},
		{"until the last attempt", MaxAttempts - 1, false},
		{"every attempt", MaxAttempts, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			g := newGuest(t, f)
			f.interference = tc.interference
			writes := f.inblobWrites
			rd := [64]byte{42}
			q, err := g.Quote(rd)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "someone else") {
					t.Fatalf("err = %v, want a concurrent writer error", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(q, fakeQuote(4, mrtdA, rd[:])) {
					t.Fatal("returned another writer's quote")
				}
			}
			if n := f.inblobWrites - writes; n != min(tc.interference+1, MaxAttempts) {
				t.Fatalf("%d attempts", n)
			}
			f.assertClean()
		})
	}
}

func TestQuoteErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeConfigfs)
		want  string
	}{
		{"sev provider", func(f *fakeConfigfs) { f.provider = "sev_guest\n" }, `provider is "sev_guest", want "tdx_guest"`},
		{"sgx quote version", func(f *fakeConfigfs) { f.version = 3 }, "unsupported quote version 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			tc.setup(f)
			_, err := New(WithReportDir(f))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			f.assertClean()
		})
	}
}

func TestTDReportBody(t *testing.T) {
	good := fakeQuote(4, mrtdA, nil)
	v5 := fakeQuote(5, mrtdA, nil)
	mutate := func(q []byte, fn func([]byte)) []byte { q = bytes.Clone(q); fn(q); return q }
	for _, tc := range []struct {
		name  string
		quote []byte
		want  string // "" means success
	}{
		{"v4", good, ""},
		{"v5", v5, ""},
		{"v5 TDX 1.5 body", mutate(v5, func(q []byte) { q[quoteHeaderSize] = 3 }), ""},
		{"v5 SGX body", mutate(v5, func(q []byte) { q[quoteHeaderSize] = 1 }), "body type 1"},
		{"short header", good[:47], "shorter than its header"},
		{"short body", good[:quoteHeaderSize+tdReportSize-1], "too short"},
		{"short v5", v5[:quoteHeaderSize+3], "too short"},
		{"version 3", mutate(good, func(q []byte) { q[0] = 3 }), "unsupported quote version 3"},
		{"SGX TEE type", mutate(good, func(q []byte) { q[4] = 0 }), "TEE type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := tdReportBody(tc.quote)
			if tc.want == "" {
				if err != nil || !bytes.Equal(body[mrtdOffset:mrtdOffset+mrtdSize], mrtdA) {
					t.Fatalf("body %x, %v", body, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestMissingFiles(t *testing.T) {
	t.Run("no configfs-tsm", func(t *testing.T) {
		root := t.TempDir()
		_, err := New(WithRoot(root))
		want := "not inside a TDX guest with configfs-tsm: " + filepath.Join(root, ReportSubdir) + " missing"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
	})
	t.Run("not configfs", func(t *testing.T) {
		// A plain directory: mkdir works but nothing populates the entry.
		root := t.TempDir()
		dir := filepath.Join(root, ReportSubdir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := New(WithRoot(root))
		if err == nil || !strings.Contains(err.Error(), "provider missing") || !strings.Contains(err.Error(), "not a configfs-tsm report directory") {
			t.Fatalf("err = %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%d entries left behind", len(entries))
		}
	})
	t.Run("default root", func(t *testing.T) {
		if _, err := os.Stat("/sys/kernel/config/tsm/report"); err == nil {
			t.Skip("configfs-tsm present")
		}
		_, err := New()
		if err == nil || !strings.Contains(err.Error(), "not inside a TDX guest with configfs-tsm: /sys/kernel/config/tsm/report missing") {
			t.Fatalf("err = %v", err)
		}
	})
	for _, attr := range []string{"inblob", "outblob", "generation"} {
		t.Run(attr, func(t *testing.T) {
			f := newFake(t)
			g := newGuest(t, f)
			g.reports = &removingDir{fakeConfigfs: f, missing: attr}
			_, err := g.Quote([64]byte{})
			if err == nil || !strings.Contains(err.Error(), attr+" missing") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// removingDir makes one attribute vanish when the platform first uses it.
type removingDir struct {
	*fakeConfigfs
	missing string
}

func (r *removingDir) ReadFile(entry, attr string) ([]byte, error) {
	if attr == r.missing {
		os.Remove(r.attr(entry, attr))
		return r.OSReportDir.ReadFile(entry, attr)
	}
	return r.fakeConfigfs.ReadFile(entry, attr)
}

func (r *removingDir) WriteFile(entry, attr string, data []byte) error {
	if attr == r.missing {
		os.Remove(r.attr(entry, attr))
		return r.OSReportDir.WriteFile(entry, attr, data)
	}
	return r.fakeConfigfs.WriteFile(entry, attr, data)
}

func (r *removingDir) Remove(entry string) error { return os.RemoveAll(filepath.Join(r.Path, entry)) }

func TestSealingUnavailable(t *testing.T) {
	g := newGuest(t, newFake(t))
	if _, err := g.Seal("identity", []byte("x")); !errors.Is(err, ErrSealingUnavailable) || !errors.Is(err, tee.ErrSealingUnavailable) {
		t.Fatalf("Seal err = %v", err)
	}
	if _, err := g.Unseal("identity", []byte("x")); !errors.Is(err, ErrSealingUnavailable) {
		t.Fatalf("Unseal err = %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, SealingKeySize)
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"raw", key},
		{"hex", []byte(hex.EncodeToString(key))},
		{"hex with newline", []byte(hex.EncodeToString(key) + "\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			g := newGuest(t, f, WithSealingKeyFile(keyFile(t, tc.content)))
			sealed, err := g.Seal("identity", []byte("identity key"))
			if err != nil {
				t.Fatal(err)
			}
			// All encodings of the same key give the same sealing key.
			other := newGuest(t, newFake(t), WithSealingKeyFile(keyFile(t, key)))
			for _, u := range []*Guest{g, other} {
				got, err := u.Unseal("identity", sealed)
				if err != nil || string(got) != "identity key" {
					t.Fatalf("Unseal = %q, %v", got, err)
				}
			}
		})
	}
}

func TestUnsealRefused(t *testing.T) {
	keyA := keyFile(t, bytes.Repeat([]byte{1}, SealingKeySize))
	keyB := keyFile(t, bytes.Repeat([]byte{2}, SealingKeySize))
	g := newGuest(t, newFake(t), WithSealingKeyFile(keyA))
	sealed, err := g.Seal("identity", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)/2] ^= 1
	otherTD := newFake(t)
	otherTD.mrtd = mrtdB
	for _, tc := range []struct {
		name  string
		guest *Guest
		label string
		data  []byte
	}{
		{"other label", g, "checkpoint", sealed},
		{"tampered", g, "identity", tampered},
		{"other operator key", newGuest(t, newFake(t), WithSealingKeyFile(keyB)), "identity", sealed},
		{"other MRTD", newGuest(t, otherTD, WithSealingKeyFile(keyA)), "identity", sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.guest.Unseal(tc.label, tc.data); !errors.Is(err, tee.ErrUnsealFailed) {
				t.Fatalf("Unseal = %q, %v; want ErrUnsealFailed", got, err)
			}
		})
	}
}

func TestBadSealingKeyFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, "no such file"},
		{"short", func(t *testing.T) string { return keyFile(t, make([]byte, 31)) }, "32 raw bytes or 64 hex digits"},
		{"bad hex", func(t *testing.T) string { return keyFile(t, bytes.Repeat([]byte("zz"), 32)) }, "32 raw bytes or 64 hex digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(WithReportDir(newFake(t)), WithSealingKeyFile(tc.path(t)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func FuzzUnseal(f *testing.F) {
	g := newGuest(f, newFake(f), WithSealingKeyFile(keyFile(f, bytes.Repeat([]byte{9}, SealingKeySize))))
	sealed, err := g.Seal("fuzz", []byte("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte{})
	f.Add([]byte("PHSL\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := g.Unseal("fuzz", data)
		if err == nil && string(got) != "seed" {
			t.Fatalf("forged sealed data opened: %x", data)
		}
		if err != nil && !errors.Is(err, tee.ErrUnsealFailed) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
