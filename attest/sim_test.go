package attest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func TestSimQuote(t *testing.T) {
	m := [32]byte{1, 2, 3}
	var rd [64]byte
	copy(rd[:], "node key hash")
	q := SignSimQuote(m, rd)
	if len(q) != SimQuoteSize || !IsSimQuote(q) {
		t.Fatalf("size %d", len(q))
	}
	at := time.Unix(1, 0)

	_, err := Verify(q, Collateral{}, at)
	if !errors.Is(err, ErrSimNotAllowed) || !errors.Is(err, ErrPolicy) || err.Error() != "attest: sim quotes are not accepted by this chain" {
		t.Fatalf("not allowed: %v", err)
	}
	for _, opt := range []Option{AllowSim(), WithPolicy(Policy{AllowSim: true})} {
		v, err := Verify(q, Collateral{}, at, opt)
		if err != nil || v.TEE != KindSim || v.MrEnclave != m || v.ReportData != rd || v.TCBStatus != StatusUpToDate || v.Debug {
			t.Fatalf("%+v %v", v, err)
		}
	}
	// Measurement lists, and requirements that only concern collateral.
	p := Policy{AllowSim: true, Sim: []Hex{m[:]}, MinTCBEvalDataNumber: 99, MaxCollateralAgeSeconds: 1, RequireRevocationCheck: true}
	if _, err := Verify(q, Collateral{}, at, WithPolicy(p)); err != nil {
		t.Fatal(err)
	}
	p.Sim = []Hex{make([]byte, 32)}
	if _, err := Verify(q, Collateral{}, at, WithPolicy(p)); !errors.Is(err, ErrPolicy) {
		t.Fatal(err)
	}
	p = Policy{AllowSim: true, SGX: []SGXMeasurement{{MrEnclave: m[:]}}}
	if _, err := Verify(q, Collateral{}, at, WithPolicy(p)); !errors.Is(err, ErrPolicy) {
		t.Fatalf("an SGX entry must not admit a sim quote: %v", err)
	}

	// Any change breaks it.
	for i := range q {
		bad := bytes.Clone(q)
		bad[i] ^= 0x40
		if _, err := Verify(bad, Collateral{}, at, AllowSim()); err == nil {
			t.Fatalf("flipped byte %d verifies", i)
		}
	}
	for _, bad := range [][]byte{q[:len(q)-1], append(bytes.Clone(q), 0)} {
		if _, err := Verify(bad, Collateral{}, at, AllowSim()); !errors.Is(err, ErrMalformedQuote) {
			t.Fatalf("length %d: %v", len(bad), err)
		}
	}
	// A signature by another key.
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	forged := append(bytes.Clone(q[:SimQuoteSize-64]), ed25519.Sign(other, simMessage(q[:SimQuoteSize-64]))...)
	if _, err := Verify(forged, Collateral{}, at, AllowSim()); !errors.Is(err, ErrSignature) {
		t.Fatal(err)
	}
}

// TestSimQuoteFormat pins the encoding and the dev key, which other
// programs reproduce.
func TestSimQuoteFormat(t *testing.T) {
	seed := sha256.Sum256([]byte("phala/attest/sim-dev-key/v1"))
	if !SimDevPublicKey().Equal(ed25519.NewKeyFromSeed(seed[:]).Public()) {
		t.Fatal("dev key derivation")
	}
	var m [32]byte
	var rd [64]byte
	for i := range m {
		m[i] = byte(i)
	}
	for i := range rd {
		rd[i] = byte(0x80 + i)
	}
	q := SignSimQuote(m, rd)
	if string(q[:15]) != "PHALA-SIM-QUOTE" || q[15] != 0 || q[16] != 1 || !bytes.Equal(q[17:49], m[:]) || !bytes.Equal(q[49:113], rd[:]) {
		t.Fatalf("layout %x", q[:113])
	}
	msg := append([]byte("phala/attest/sim-quote/v1\x00"), q[:113]...)
	if !ed25519.Verify(SimDevPublicKey(), msg, q[113:]) {
		t.Fatal("signature is not over the documented message")
	}
	h := sha256.Sum256(q)
	const golden = "ed2225384c7012bab1afb40dc62aa2cce2eadc8ac68ebb399dda4ccdf6829de5" // reproduced independently (Python cryptography)
	if got := hex.EncodeToString(h[:]); got != golden {
		t.Fatalf("sim quote changed: sha256 %s", got)
	}
}
