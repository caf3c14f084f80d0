package gramine

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// realQuote reads the real SGX DCAP v3 quote kept beside the module
// (../shared/testdata/attestation/sgx-dcap-v3-phala/quote.bin), skipping the
// test when it is absent.
func realQuote(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "testdata", "attestation", "sgx-dcap-v3-phala", "quote.bin")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("real quote absent: %v", err)
	}
	return b
}

// TestRealQuote checks the v3 offsets Quote relies on against a real quote
// whose MRENCLAVE and report data are known.
func TestRealQuote(t *testing.T) {
	q := realQuote(t)
	mrenclave, err := hex.DecodeString("33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb")
	if err != nil {
		t.Fatal(err)
	}
	var rd [64]byte
	copy(rd[:], "Hello, world!")

	root := fakeTree(t, mrenclave, keyA)
	writeFile(t, root, PathQuote, q)
	e := newEnclave(t, root)
	got, err := e.Quote(rd)
	if err != nil {
		t.Fatalf("real quote refused: %v", err)
	}
	if len(got) != len(q) {
		t.Fatalf("quote is %d bytes, want %d", len(got), len(q))
	}
	rd[0] ^= 1
	if _, err := e.Quote(rd); err == nil {
		t.Fatal("real quote accepted for other report data")
	}
}
