package tee

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Sealed data format, version 1:
//
//	magic   4 bytes  "PHSL"
//	version 1 byte   1
//	nonce   24 bytes random XChaCha20-Poly1305 nonce
//	box     rest     XChaCha20-Poly1305 ciphertext and 16-byte tag
//
// The whole header (magic, version, nonce) is the AEAD's additional data, so
// changing any byte of it fails authentication. The key is derived per label,
// so a blob sealed under one label does not open under another.
const (
	sealMagic   = "PHSL"
	sealVersion = 1
	// SealOverhead is how many bytes Seal adds to the plaintext.
	SealOverhead = sealHeaderSize + chacha20poly1305.Overhead
	// MinSealingKeySize is the shortest platform sealing key NewSealer
	// accepts (Gramine's SGX sealing keys are 16 bytes).
	MinSealingKeySize = 16

	sealHeaderSize = len(sealMagic) + 1 + chacha20poly1305.NonceSizeX
	sealKeyInfo    = "phala/tee/seal/v1"
)

// Sealer implements Seal and Unseal for every platform, given the platform's
// sealing key: a secret only the same enclave on the same machine can obtain.
// It holds no other state and is safe for concurrent use.
type Sealer struct {
	kind Kind
	key  []byte
}

// NewSealer returns a Sealer over platformKey (at least MinSealingKeySize
// bytes; it is copied). The kind is mixed into every derived key, so keys of
// different platforms never coincide even from equal inputs.
func NewSealer(kind Kind, platformKey []byte) (*Sealer, error) {
	if len(platformKey) < MinSealingKeySize {
		return nil, fmt.Errorf("tee: sealing key is %d bytes, want at least %d", len(platformKey), MinSealingKeySize)
	}
	if kind == "" || strings.IndexByte(string(kind), 0) >= 0 {
		return nil, fmt.Errorf("tee: invalid platform kind %q", kind)
	}
	return &Sealer{kind: kind, key: append([]byte(nil), platformKey...)}, nil
}

// labelKey derives the 32-byte AEAD key for label with HKDF-SHA256. The info
// string is the fixed prefix, the kind (which contains no NUL) and the label,
// NUL-separated, so distinct (kind, label) pairs give distinct inputs.
func (s *Sealer) labelKey(label string) ([]byte, error) {
	if label == "" {
		return nil, errors.New("tee: empty seal label")
	}
	info := sealKeyInfo + "\x00" + string(s.kind) + "\x00" + label
	return hkdf.Key(sha256.New, s.key, nil, info, chacha20poly1305.KeySize)
}

// Seal encrypts plaintext under label. The result is SealOverhead bytes
// longer than plaintext.
func (s *Sealer) Seal(label string, plaintext []byte) ([]byte, error) {
	key, err := s.labelKey(label)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("tee: seal: %w", err)
	}
	out := make([]byte, sealHeaderSize, SealOverhead+len(plaintext))
	copy(out, sealMagic)
	out[len(sealMagic)] = sealVersion
	nonce := out[len(sealMagic)+1 : sealHeaderSize]
	rand.Read(nonce) // never fails: crypto/rand crashes the program instead
	return aead.Seal(out, nonce, plaintext, out[:sealHeaderSize]), nil
}

// Unseal opens data produced by Seal with the same key and label. Every
// failure matches ErrUnsealFailed, except an empty label.
func (s *Sealer) Unseal(label string, sealed []byte) ([]byte, error) {
	key, err := s.labelKey(label)
	if err != nil {
		return nil, err
	}
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("%w: %d bytes is too short for sealed data", ErrUnsealFailed, len(sealed))
	}
	if string(sealed[:len(sealMagic)]) != sealMagic {
		return nil, fmt.Errorf("%w: not sealed data (bad magic)", ErrUnsealFailed)
	}
	if v := sealed[len(sealMagic)]; v != sealVersion {
		return nil, fmt.Errorf("%w: unsupported sealed format version %d", ErrUnsealFailed, v)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("tee: unseal: %w", err)
	}
	header := sealed[:sealHeaderSize]
	nonce := header[len(sealMagic)+1:]
	plaintext, err := aead.Open(nil, nonce, sealed[sealHeaderSize:], header)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrUnsealFailed)
	}
	return plaintext, nil
}
