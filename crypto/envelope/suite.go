package envelope

import (
	"crypto/ecdh"
	"crypto/hpke"
	"fmt"
)

// Suite names an HPKE ciphersuite (KEM, KDF, AEAD) in an envelope. The number
// is ours, not HPKE's: it is written on chain, so a value keeps its meaning
// forever; a new suite gets a new number.
type Suite uint16

const (
	// SuiteMLKEM768X25519 is the hybrid post-quantum default: KEM
	// MLKEM768-X25519 (X-Wing), HKDF-SHA256, ChaCha20-Poly1305.
	SuiteMLKEM768X25519 Suite = 1
	// SuiteX25519 is DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
	// ChaCha20-Poly1305: classical only, for small devices and comparison.
	SuiteX25519 Suite = 2

	// Default is the suite of node, cluster and contract encryption keys.
	Default = SuiteMLKEM768X25519
)

// suiteInfo is what a suite is made of.
type suiteInfo struct {
	name   string
	kem    func() hpke.KEM
	encLen int // length of the KEM encapsulation
	pubLen int // length of a serialized public key
}

var suites = map[Suite]suiteInfo{
	SuiteMLKEM768X25519: {"MLKEM768X25519-HKDFSHA256-ChaCha20Poly1305", hpke.MLKEM768X25519, 1088 + 32, 1184 + 32},
	SuiteX25519:         {"X25519-HKDFSHA256-ChaCha20Poly1305", func() hpke.KEM { return hpke.DHKEM(ecdh.X25519()) }, 32, 32},
}

// Every suite uses the same KDF and AEAD; only the KEM differs.
func kdf() hpke.KDF   { return hpke.HKDFSHA256() }
func aead() hpke.AEAD { return hpke.ChaCha20Poly1305() }

func (s Suite) info() (suiteInfo, error) {
	si, ok := suites[s]
	if !ok {
		return suiteInfo{}, ErrUnknownSuite.Wrapf("suite %d", uint16(s))
	}
	return si, nil
}

// Known reports whether this version of the code can use s.
func (s Suite) Known() bool { _, ok := suites[s]; return ok }

// String names the suite's parts.
func (s Suite) String() string {
	if si, ok := suites[s]; ok {
		return si.name
	}
	return fmt.Sprintf("unknown-suite-%d", uint16(s))
}

// KEM returns the suite's KEM, to generate or parse its keys.
func (s Suite) KEM() (hpke.KEM, error) {
	si, err := s.info()
	if err != nil {
		return nil, err
	}
	return si.kem(), nil
}

// SuiteOf returns the suite whose KEM k belongs to.
func SuiteOf(k hpke.KEM) (Suite, error) {
	for s, si := range suites {
		if si.kem().ID() == k.ID() {
			return s, nil
		}
	}
	return 0, ErrUnknownSuite.Wrapf("no suite for HPKE KEM 0x%04x", k.ID())
}

// GenerateKey makes a fresh random key pair of suite s.
func GenerateKey(s Suite) (hpke.PrivateKey, error) {
	k, err := s.KEM()
	if err != nil {
		return nil, err
	}
	return k.GenerateKey()
}

// ParsePublicKey reads a public key of suite s, such as a node's encryption
// key recorded on chain.
func ParsePublicKey(s Suite, b []byte) (hpke.PublicKey, error) {
	si, err := s.info()
	if err != nil {
		return nil, err
	}
	if len(b) != si.pubLen {
		return nil, ErrBadKey.Wrapf("%s public key is %d bytes, got %d", s, si.pubLen, len(b))
	}
	pub, err := si.kem().NewPublicKey(b)
	if err != nil {
		return nil, ErrBadKey.Wrapf("%s public key: %v", s, err)
	}
	return pub, nil
}
