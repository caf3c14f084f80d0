// Package envelope seals payloads to a recipient's public key with HPKE
// (RFC 9180, Go's crypto/hpke): key hand-outs between enclaves, commands and
// queries to contracts, query replies.
//
// Why a hybrid post-quantum default: whatever is sealed and put on chain stays
// public forever, so an attacker can record it today and decrypt it once a
// quantum computer breaks X25519. The default suite's KEM, MLKEM768-X25519
// (X-Wing), stays confidential as long as either ML-KEM-768 or X25519 holds.
// X25519 alone is kept as a second suite for small devices and for
// comparison; the suite number travels in every envelope, so a later suite can
// be added without ambiguity and an unknown one is refused.
//
// Why the info binding: the HPKE info of every envelope is a hash of the
// purpose (a name registered once in crypto/sigctx), the chain id and the
// recipient's public key. An envelope sealed as a query never opens as a
// command, one sealed on a testnet never opens on mainnet, and one sealed to
// one key never opens under another: replay across purposes, chains or
// recipients fails authentication instead of being accepted.
package envelope

import (
	"crypto/hpke"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/sigctx"
)

// Version is the envelope wire version this code writes and reads.
const Version = 1

// Size bounds. Decoding refuses anything larger before parsing it.
const (
	// MaxPlaintext is the largest payload Seal accepts.
	MaxPlaintext = 1 << 20
	// tagLen is ChaCha20-Poly1305's authentication tag.
	tagLen = 16
	// MaxSize is the largest encoded envelope Open and Decode accept:
	// the largest ciphertext, the largest encapsulation and CBOR framing.
	MaxSize = MaxPlaintext + tagLen + 4096
)

// Purpose is what an envelope is for; it is bound into the HPKE info. Only
// the values declared below exist: their names are registered in
// crypto/sigctx, once each.
type Purpose struct{ ctx sigctx.Context }

// The purposes. Add new ones here, with their names in crypto/sigctx.
var (
	// MasterKeyHandout carries the master key from a gatekeeper to a newly
	// registered gatekeeper.
	MasterKeyHandout = Purpose{sigctx.EnvelopeMasterKey}
	// ClusterKeyHandout carries a cluster key from a gatekeeper to a worker
	// assigned to the cluster.
	ClusterKeyHandout = Purpose{sigctx.EnvelopeClusterKey}
	// Command carries a transaction's call to a contract.
	Command = Purpose{sigctx.EnvelopeCommand}
	// Query carries an off-chain query to a contract.
	Query = Purpose{sigctx.EnvelopeQuery}
	// QueryReply carries a contract's answer back to the querier.
	QueryReply = Purpose{sigctx.EnvelopeQueryReply}
	// Receipt carries a command's receipt to its sender's reply key.
	Receipt = Purpose{sigctx.EnvelopeReceipt}
	// SessionOpen carries a query session's request to a contract.
	SessionOpen = Purpose{sigctx.EnvelopeSessionOpen}
	// SessionGrant carries a query session's secret back to the caller.
	SessionGrant = Purpose{sigctx.EnvelopeSessionGrant}
	// Events carries the events addressed to an account to its reply key.
	Events = Purpose{sigctx.EnvelopeEvents}
)

// Name is the purpose's registered name.
func (p Purpose) Name() string { return p.ctx.Name() }

func (p Purpose) check() error {
	if p.ctx.Name() == "" {
		return ErrPurpose
	}
	return nil
}

// Envelope is the wire form: canonical CBOR, an array of four items.
type Envelope struct {
	_          struct{} `cbor:",toarray"`
	Version    uint8
	Suite      Suite
	Enc        []byte // the KEM encapsulation
	Ciphertext []byte // the AEAD output, tag included
}

// Info is the HPKE info of an envelope: a hash of the purpose's context, the
// chain id and the recipient's serialized public key.
func Info(chainID string, p Purpose, recipientPub []byte) []byte {
	h := p.ctx.Hash(chainID, recipientPub)
	return h[:]
}

// Seal encrypts plaintext to recipient for purpose on chain chainID and
// returns the encoded envelope. aad, which may be nil, is authenticated but
// not encrypted or carried: Open must be given the same bytes (nil and empty
// are the same). The suite is the recipient key's.
func Seal(chainID string, p Purpose, recipient hpke.PublicKey, plaintext, aad []byte) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if recipient == nil {
		return nil, ErrBadKey.Wrapf("no recipient key")
	}
	suite, err := SuiteOf(recipient.KEM())
	if err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintext {
		return nil, ErrTooLarge.Wrapf("plaintext of %d bytes, at most %d", len(plaintext), MaxPlaintext)
	}
	enc, sender, err := hpke.NewSender(recipient, kdf(), aead(), Info(chainID, p, recipient.Bytes()))
	if err != nil {
		return nil, ErrBadKey.Wrapf("encapsulate: %v", err)
	}
	ct, err := sender.Seal(aad, plaintext)
	if err != nil {
		return nil, ErrBadKey.Wrapf("seal: %v", err)
	}
	return codec.Marshal(Envelope{Version: Version, Suite: suite, Enc: enc, Ciphertext: ct})
}

// SealTo is Seal to a serialized public key of suite s, such as a node's
// encryption key as the chain records it.
func SealTo(chainID string, p Purpose, s Suite, recipientPub, plaintext, aad []byte) ([]byte, error) {
	pub, err := ParsePublicKey(s, recipientPub)
	if err != nil {
		return nil, err
	}
	return Seal(chainID, p, pub, plaintext, aad)
}

// Open decrypts an envelope sealed by Seal to recipient's public key, for
// purpose p on chain chainID, with the same aad. Any difference, or any
// changed byte, is refused.
func Open(chainID string, p Purpose, recipient hpke.PrivateKey, env, aad []byte) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if recipient == nil {
		return nil, ErrBadKey.Wrapf("no recipient key")
	}
	e, err := Decode(env)
	if err != nil {
		return nil, err
	}
	keySuite, err := SuiteOf(recipient.KEM())
	if err != nil {
		return nil, err
	}
	if keySuite != e.Suite {
		return nil, ErrBadKey.Wrapf("envelope is sealed with %s, key is %s", e.Suite, keySuite)
	}
	info := Info(chainID, p, recipient.PublicKey().Bytes())
	r, err := hpke.NewRecipient(e.Enc, recipient, kdf(), aead(), info)
	if err != nil {
		return nil, ErrDecrypt.Wrapf("decapsulate: %v", err)
	}
	plain, err := r.Open(aad, e.Ciphertext)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// Decode parses untrusted envelope bytes strictly: bounded size, canonical
// CBOR, known version and suite, lengths that fit the suite. It never panics.
func Decode(b []byte) (Envelope, error) {
	if len(b) > MaxSize {
		return Envelope{}, ErrTooLarge.Wrapf("envelope of %d bytes, at most %d", len(b), MaxSize)
	}
	var e Envelope
	if err := codec.UnmarshalCanonical(b, &e); err != nil {
		return Envelope{}, ErrMalformed.Wrapf("%v", err)
	}
	if e.Version != Version {
		return Envelope{}, ErrMalformed.Wrapf("version %d, want %d", e.Version, Version)
	}
	si, err := e.Suite.info()
	if err != nil {
		return Envelope{}, err
	}
	if len(e.Enc) != si.encLen {
		return Envelope{}, ErrMalformed.Wrapf("%s encapsulation is %d bytes, got %d", e.Suite, si.encLen, len(e.Enc))
	}
	if len(e.Ciphertext) < tagLen || len(e.Ciphertext) > MaxPlaintext+tagLen {
		return Envelope{}, ErrMalformed.Wrapf("ciphertext of %d bytes", len(e.Ciphertext))
	}
	return e, nil
}

// Marshal encodes e canonically.
func (e Envelope) Marshal() ([]byte, error) { return codec.Marshal(e) }
