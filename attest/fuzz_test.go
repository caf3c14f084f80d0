package attest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds the real quotes (read at fuzz time when the testdata is
// there, never copied into a corpus), synthetic SGX v3/v4 and TDX v4
// quotes, a sim quote and a few stubs. It returns the synthetic env.
func fuzzSeeds(f *testing.F) *env {
	if dir := testdataRoot(); dir != "" {
		for _, p := range []string{
			"sgx-dcap-v3-phala/quote.bin",
			"oasis-core-vectors/quote_v3_ecdsa_p256_pck_chain.bin",
			"oasis-core-vectors/quote_v4_tdx_ecdsa_p256.bin",
			"oasis-core-vectors/quote_v4_tdx_ecdsa_p256_out_of_date.bin",
		} {
			if b, err := os.ReadFile(filepath.Join(dir, p)); err == nil {
				f.Add(b)
			}
		}
	}
	var first *env
	for _, tc := range []struct {
		tdx     bool
		version uint16
	}{{false, 3}, {false, 4}, {true, 4}} {
		e := newEnv(f, tc.tdx)
		e.version = tc.version
		q, _ := e.build()
		f.Add(q)
		if first == nil {
			first = e
		}
	}
	f.Add(SignSimQuote([32]byte{1}, [64]byte{2}))
	f.Add([]byte{})
	f.Add([]byte{3, 0, 2, 0})
	f.Add([]byte{4, 0, 2, 0, 0x81})
	return first
}

// FuzzParseQuote: the parser never panics, fails only with its kinds, and
// whatever it accepts has exactly one body.
func FuzzParseQuote(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := ParseQuote(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedQuote) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("parse error without kind: %v", err)
			}
			return
		}
		if (q.SGX == nil) == (q.TD == nil) {
			t.Fatal("parsed quote must have exactly one body")
		}
	})
}

var errKinds = []error{ErrMalformedQuote, ErrUnsupported, ErrCollateral, ErrCertificate, ErrRevoked, ErrExpired,
	ErrSignature, ErrQEIdentity, ErrTCBStatus, ErrTDXModule, ErrDebug, ErrPolicy}

func hasKind(err error) bool {
	for _, k := range errKinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// FuzzVerify: full verification of arbitrary quotes (against synthetic
// collateral, and the real collateral when present) never panics and
// fails only with the package's kinds.
func FuzzVerify(f *testing.F) {
	e := fuzzSeeds(f)
	_, synthColl := e.build()
	var realColl Collateral
	haveReal := testdataRoot() != ""
	if haveReal {
		_, realColl = phalaCollateral(f)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Verify(data, synthColl, e.at, WithRoot(e.root), AllowSim(), WithPolicy(allStatuses)); err != nil && !hasKind(err) {
			t.Fatalf("verify error without kind: %v", err)
		}
		if haveReal {
			if _, err := Verify(data, realColl, phalaAt, WithPolicy(allStatuses)); err != nil && !hasKind(err) {
				t.Fatalf("verify error without kind: %v", err)
			}
		}
	})
}

// testdataRoot is testdataDir without skipping ("" when absent).
func testdataRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "testdata", "attestation")
			if _, err := os.Stat(d); err == nil {
				return d
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestParseQuoteTruncations: every prefix of every real and synthetic
// quote is refused without panicking.
func TestParseQuoteTruncations(t *testing.T) {
	var quotes [][]byte
	for _, tdx := range []bool{false, true} {
		q, _ := newEnv(t, tdx).build()
		quotes = append(quotes, q)
	}
	if dir := testdataRoot(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "sgx-dcap-v3-phala", "quote.bin")); err == nil {
			quotes = append(quotes, b)
		}
	}
	for _, q := range quotes {
		if _, err := ParseQuote(q); err != nil {
			t.Fatal(err)
		}
		for n := range len(q) {
			if _, err := ParseQuote(q[:n]); !errors.Is(err, ErrMalformedQuote) {
				t.Fatalf("prefix %d of %d: %v", n, len(q), err)
			}
		}
		if _, err := ParseQuote(append(q, 0)); !errors.Is(err, ErrMalformedQuote) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
}
