package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"

	"github.com/phala-go/phala/crypto/sigctx"
)

// Sessions: one HPKE exchange (SessionOpen, SessionGrant) hands a caller a
// random session secret; afterwards each query and its answer are sealed
// with a symmetric AEAD under keys derived from it, which costs a few
// microseconds instead of a post-quantum KEM per query.
//
// Why one key per direction: the sequence number is the AEAD nonce, and
// the caller's query n and the worker's answer n share it; with separate
// keys no (key, nonce) pair is ever used twice, so long as the caller
// never reuses a sequence number (the worker refuses a repeated one
// anyway: replay).

// SessionSecretSize is the length of a session secret.
const SessionSecretSize = 32

// AES-256-GCM's key and nonce sizes; its tag is tagLen bytes, as
// ChaCha20-Poly1305's.
const (
	sessionKeySize   = 32
	sessionNonceSize = 12
)

// SessionDirection names one direction of a session; only the values
// below exist, their names registered in crypto/sigctx.
type SessionDirection struct{ ctx sigctx.Context }

// The directions.
var (
	// SessionQuery keys the caller's queries.
	SessionQuery = SessionDirection{sigctx.SessionQueryKey}
	// SessionReply keys the worker's answers.
	SessionReply = SessionDirection{sigctx.SessionReplyKey}
)

// SessionCipher seals and opens one direction of one session with
// AES-256-GCM (the standard library's, hardware accelerated where the CPU
// has AES instructions, as the TEE machines do). It is safe for concurrent
// use.
type SessionCipher struct{ aead cipher.AEAD }

// NewSessionCipher derives direction d's key of a session from its secret
// with HKDF-SHA256, binding the chain and binding (the session's id and
// contract): the same secret under another chain, session or direction
// gives an unrelated key.
func NewSessionCipher(chainID string, d SessionDirection, secret, binding []byte) (SessionCipher, error) {
	if d.ctx.Name() == "" {
		return SessionCipher{}, ErrPurpose
	}
	if len(secret) != SessionSecretSize {
		return SessionCipher{}, ErrBadKey.Wrapf("session secret of %d bytes, want %d", len(secret), SessionSecretSize)
	}
	info := d.ctx.Hash(chainID, binding)
	key, err := hkdf.Key(sha256.New, secret, nil, string(info[:]), sessionKeySize)
	if err != nil {
		return SessionCipher{}, ErrBadKey.Wrapf("derive: %v", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return SessionCipher{}, ErrBadKey.Wrapf("%v", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return SessionCipher{}, ErrBadKey.Wrapf("%v", err)
	}
	return SessionCipher{aead: aead}, nil
}

func sessionNonce(seq uint64) []byte {
	n := make([]byte, sessionNonceSize)
	binary.BigEndian.PutUint64(n[len(n)-8:], seq)
	return n
}

// Seal encrypts message seq of this direction; aad is authenticated, not
// carried. A sequence number must never be sealed twice under one key.
func (c SessionCipher) Seal(seq uint64, plaintext, aad []byte) ([]byte, error) {
	if c.aead == nil {
		return nil, ErrBadKey.Wrapf("no session key")
	}
	if len(plaintext) > MaxPlaintext {
		return nil, ErrTooLarge.Wrapf("plaintext of %d bytes, at most %d", len(plaintext), MaxPlaintext)
	}
	return c.aead.Seal(nil, sessionNonce(seq), plaintext, aad), nil
}

// Open decrypts message seq sealed by Seal with the same aad; any other
// key, number, aad or byte is refused.
func (c SessionCipher) Open(seq uint64, ciphertext, aad []byte) ([]byte, error) {
	if c.aead == nil {
		return nil, ErrBadKey.Wrapf("no session key")
	}
	if len(ciphertext) < tagLen || len(ciphertext) > MaxPlaintext+tagLen {
		return nil, ErrMalformed.Wrapf("session ciphertext of %d bytes", len(ciphertext))
	}
	plain, err := c.aead.Open(nil, sessionNonce(seq), ciphertext, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}
