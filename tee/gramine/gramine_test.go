package gramine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/tee"
)

var (
	mrenclaveA = bytes.Repeat([]byte{0xa1}, 32)
	keyA       = bytes.Repeat([]byte{0x11}, 16)
	keyB       = bytes.Repeat([]byte{0x22}, 16)
)

// fakeTree builds a Gramine /dev/attestation tree under a temporary root.
func fakeTree(t *testing.T, mrenclave, sealingKey []byte) string {
	t.Helper()
	root := t.TempDir()
	targetInfo := make([]byte, 512)
	copy(targetInfo, mrenclave)
	for name, data := range map[string][]byte{
		PathAttestationType: []byte("dcap"),
		PathMyTargetInfo:    targetInfo,
		PathSealingKey:      sealingKey,
		PathUserReportData:  make([]byte, 64),
		PathQuote:           nil,
	} {
		writeFile(t, root, name, data)
	}
	return root
}

func writeFile(t *testing.T, root, name string, data []byte) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, root, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeQuoteV3 is the shape of an SGX DCAP v3 quote: header, report body and
// a dummy signature section.
func fakeQuoteV3(mrenclave []byte, reportData []byte) []byte {
	q := make([]byte, quoteV3MinSize+64)
	binary.LittleEndian.PutUint16(q, 3)
	copy(q[reportMrEnclaveStart:], mrenclave)
	copy(q[reportDataStart:], reportData)
	return q
}

// echoFS behaves like Gramine: writing user_report_data makes the quote file
// hold a quote over what was written (read back from the file, so the test
// sees exactly the bytes the platform wrote).
type echoFS struct {
	rootFS
	t         *testing.T
	mrenclave []byte
	writes    int
}

func (f *echoFS) WriteFile(name string, data []byte) error {
	if err := f.rootFS.WriteFile(name, data); err != nil {
		return err
	}
	f.writes++
	if name == PathUserReportData {
		writeFile(f.t, string(f.rootFS), PathQuote, fakeQuoteV3(f.mrenclave, readFile(f.t, string(f.rootFS), name)))
	}
	return nil
}

func newEnclave(t *testing.T, root string) *Enclave {
	t.Helper()
	e, err := New(WithRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNew(t *testing.T) {
	root := fakeTree(t, mrenclaveA, keyA)
	e := newEnclave(t, root)
	if e.Kind() != tee.KindSGX {
		t.Fatalf("kind %q", e.Kind())
	}
	if !bytes.Equal(e.Measurement(), mrenclaveA) {
		t.Fatalf("measurement %x, want %x", e.Measurement(), mrenclaveA)
	}
	writeFile(t, root, PathAttestationType, []byte("dcap\n"))
	newEnclave(t, root) // a trailing newline is tolerated
}

func TestSealRoundTrip(t *testing.T) {
	root := fakeTree(t, mrenclaveA, keyA)
	e := newEnclave(t, root)
	for _, tc := range []struct {
		label     string
		plaintext []byte
	}{
		{"identity", []byte("identity key seed")},
		{"checkpoint", bytes.Repeat([]byte("state"), 1000)},
		{"empty", nil},
	} {
		t.Run(tc.label, func(t *testing.T) {
			sealed, err := e.Seal(tc.label, tc.plaintext)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []*Enclave{e, newEnclave(t, root)} { // and after a restart
				got, err := u.Unseal(tc.label, sealed)
				if err != nil || !bytes.Equal(got, tc.plaintext) {
					t.Fatalf("Unseal = %x, %v", got, err)
				}
			}
		})
	}
}

func TestUnsealRefused(t *testing.T) {
	e := newEnclave(t, fakeTree(t, mrenclaveA, keyA))
	sealed, err := e.Seal("identity", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(sealed)
	tampered[20] ^= 1
	for _, tc := range []struct {
		name    string
		enclave *Enclave
		label   string
		data    []byte
	}{
		{"other label", e, "other", sealed},
		{"tampered", e, "identity", tampered},
		{"other enclave key", newEnclave(t, fakeTree(t, mrenclaveA, keyB)), "identity", sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.enclave.Unseal(tc.label, tc.data); !errors.Is(err, tee.ErrUnsealFailed) {
				t.Fatalf("Unseal = %q, %v; want ErrUnsealFailed", got, err)
			}
		})
	}
}

func TestQuoteBindsReportData(t *testing.T) {
	root := fakeTree(t, mrenclaveA, keyA)
	fs := &echoFS{rootFS: rootFS(root), t: t, mrenclave: mrenclaveA}
	e, err := New(withFS(fs))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rd   [64]byte
	}{
		{"zero", [64]byte{}},
		{"pattern", [64]byte{0: 0xde, 1: 0xad, 62: 0xbe, 63: 0xef}},
		{"all ones", [64]byte(bytes.Repeat([]byte{0xff}, 64))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writes := fs.writes
			q, err := e.Quote(tc.rd)
			if err != nil {
				t.Fatal(err)
			}
			if fs.writes != writes+1 {
				t.Fatalf("%d writes for one quote, want 1", fs.writes-writes)
			}
			if got := readFile(t, root, PathUserReportData); !bytes.Equal(got, tc.rd[:]) {
				t.Fatalf("user_report_data holds %x, want %x", got, tc.rd)
			}
			if !bytes.Equal(q, readFile(t, root, PathQuote)) {
				t.Fatal("Quote did not return the quote file")
			}
			if !bytes.Equal(q[reportDataStart:reportDataStart+64], tc.rd[:]) {
				t.Fatal("quote does not carry the report data")
			}
		})
	}
}

func TestQuoteChecks(t *testing.T) {
	rd := [64]byte{1, 2, 3}
	for _, tc := range []struct {
		name  string
		quote []byte
		want  string // "" means success
	}{
		{"stale report data", fakeQuoteV3(mrenclaveA, []byte("old")), "report data"},
		{"other enclave", fakeQuoteV3(bytes.Repeat([]byte{9}, 32), rd[:]), "MRENCLAVE"},
		{"short v3", fakeQuoteV3(mrenclaveA, rd[:])[:quoteV3MinSize-1], "at least"},
		{"empty", nil, "quote is 0 bytes"},
		{"other version passed through", []byte{5, 0, 1, 2, 3}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeTree(t, mrenclaveA, keyA)
			writeFile(t, root, PathQuote, tc.quote)
			q, err := newEnclave(t, root).Quote(rd)
			if tc.want == "" {
				if err != nil || !bytes.Equal(q, tc.quote) {
					t.Fatalf("Quote = %x, %v", q, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Quote err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestMissingFiles(t *testing.T) {
	for _, tc := range []struct {
		missing string
		inNew   bool
	}{
		{PathAttestationType, true},
		{PathMyTargetInfo, true},
		{PathSealingKey, true},
		{PathUserReportData, false},
		{PathQuote, false},
	} {
		t.Run(tc.missing, func(t *testing.T) {
			root := fakeTree(t, mrenclaveA, keyA)
			path := filepath.Join(root, filepath.FromSlash(tc.missing))
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			e, err := New(WithRoot(root))
			if !tc.inNew {
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.Quote([64]byte{})
			}
			want := "not inside a Gramine SGX enclave: " + path + " missing"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
		})
	}
}

func TestNotGramineByDefault(t *testing.T) {
	if _, err := os.Stat("/dev/attestation"); err == nil {
		t.Skip("running inside Gramine")
	}
	_, err := New()
	if err == nil || !strings.Contains(err.Error(), "not inside a Gramine SGX enclave: /dev/attestation/attestation_type missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		data []byte
		want string
	}{
		{"attestation none", PathAttestationType, []byte("none"), `want "dcap"`},
		{"attestation epid", PathAttestationType, []byte("epid"), "sgx.remote_attestation"},
		{"short target info", PathMyTargetInfo, make([]byte, 31), "too short"},
		{"short key", PathSealingKey, make([]byte, 15), "want 16"},
		{"long key", PathSealingKey, make([]byte, 32), "want 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeTree(t, mrenclaveA, keyA)
			writeFile(t, root, tc.file, tc.data)
			_, err := New(WithRoot(root))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func FuzzUnseal(f *testing.F) {
	root := f.TempDir()
	targetInfo := make([]byte, 512)
	copy(targetInfo, mrenclaveA)
	for name, data := range map[string][]byte{
		PathAttestationType: []byte("dcap"),
		PathMyTargetInfo:    targetInfo,
		PathSealingKey:      keyA,
	} {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	e, err := New(WithRoot(root))
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := e.Seal("fuzz", []byte("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte{})
	f.Add([]byte("PHSL\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := e.Unseal("fuzz", data)
		if err == nil && string(got) != "seed" {
			t.Fatalf("forged sealed data opened: %x", data)
		}
		if err != nil && !errors.Is(err, tee.ErrUnsealFailed) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
