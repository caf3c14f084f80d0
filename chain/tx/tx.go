// Package tx is the transaction envelope: canonical, versioned, signed by an
// account's ed25519 key under the chain's transaction context.
package tx

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

// Version is the only envelope version this code accepts.
const Version = 1

// HardMaxSize bounds what the decoder even looks at; the chain's own limit
// (a genesis parameter) is at most this.
const HardMaxSize = 1 << 20

const module = "tx"

// Stable error kinds of the envelope layer.
var (
	ErrMalformed          = errs.Register(module, 1, "malformed transaction")
	ErrUnsupportedVersion = errs.Register(module, 2, "unsupported transaction version")
	ErrWrongChain         = errs.Register(module, 3, "transaction for another chain")
	ErrBadSignature       = errs.Register(module, 4, "invalid signature")
	ErrNonceTooLow        = errs.Register(module, 5, "nonce already used")
	ErrNonceGap           = errs.Register(module, 6, "nonce ahead of the account")
	ErrFeeTooLow          = errs.Register(module, 7, "fee below the minimum")
	ErrCannotPayFee       = errs.Register(module, 8, "balance too low to pay the fee")
	ErrTooLarge           = errs.Register(module, 9, "transaction too large")
	ErrUnknownMethod      = errs.Register(module, 10, "unknown method")
	ErrOutOfGas           = errs.Register(module, 11, "gas limit too low")
	ErrUnsigned           = errs.Register(module, 12, "transaction is not signed")
)

// Envelope is everything the sender signs.
type Envelope struct {
	_        struct{} `cbor:",toarray"`
	Version  uint16
	ChainID  string
	Sender   []byte // ed25519 public key
	Nonce    uint64
	Fee      token.Amount
	GasLimit uint64
	Method   string           // "module.method", e.g. "bank.transfer"
	Body     codec.RawMessage // the method's canonical CBOR body
}

// Signed is the transaction as it travels and is stored in blocks.
type Signed struct {
	_         struct{} `cbor:",toarray"`
	Envelope  Envelope
	Signature []byte
}

// New builds an unsigned envelope for body.
func New(chainID string, sender ed25519.PublicKey, nonce uint64, fee token.Amount, gasLimit uint64, method string, body any) (Envelope, error) {
	raw, err := codec.Marshal(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s body: %w", method, err)
	}
	return Envelope{
		Version: Version, ChainID: chainID, Sender: sender, Nonce: nonce,
		Fee: fee, GasLimit: gasLimit, Method: method, Body: raw,
	}, nil
}

// Sign signs the envelope and returns the encoded transaction.
func (e Envelope) Sign(key ed25519.PrivateKey) ([]byte, error) {
	msg, err := codec.Marshal(e)
	if err != nil {
		return nil, err
	}
	sig := sigctx.Tx.Sign(key, e.ChainID, msg)
	return codec.Marshal(Signed{Envelope: e, Signature: sig})
}

// SenderAddress is the account that pays and signs.
func (e Envelope) SenderAddress() address.Address {
	return address.FromPublicKey(e.Sender)
}

// Decode parses an encoded transaction strictly and checks its shape. It
// does not verify the signature (see VerifySignature) so that a node can skip
// a verification it has already done for the same bytes.
func Decode(b []byte) (*Signed, error) {
	if len(b) > HardMaxSize {
		return nil, ErrTooLarge.Wrapf("%d bytes, hard limit %d", len(b), HardMaxSize)
	}
	var s Signed
	if err := codec.UnmarshalCanonical(b, &s); err != nil {
		return nil, ErrMalformed.Wrapf("%v", err)
	}
	e := &s.Envelope
	switch {
	case e.Version != Version:
		return nil, ErrUnsupportedVersion.Wrapf("version %d, want %d", e.Version, Version)
	case len(e.Sender) != ed25519.PublicKeySize:
		return nil, ErrMalformed.Wrapf("sender key is %d bytes, want %d", len(e.Sender), ed25519.PublicKeySize)
	case len(s.Signature) == 0:
		return nil, ErrUnsigned.Wrapf("empty signature")
	case len(s.Signature) != ed25519.SignatureSize:
		return nil, ErrMalformed.Wrapf("signature is %d bytes, want %d", len(s.Signature), ed25519.SignatureSize)
	case e.Method == "":
		return nil, ErrMalformed.Wrapf("no method")
	}
	return &s, nil
}

// CheckChain refuses a transaction made for another chain.
func (s *Signed) CheckChain(chainID string) error {
	if s.Envelope.ChainID != chainID {
		return ErrWrongChain.Wrapf("transaction is for chain %q, this is %q", s.Envelope.ChainID, chainID)
	}
	return nil
}

// VerifySignature checks the sender's signature over the envelope.
func (s *Signed) VerifySignature() error {
	msg, err := codec.Marshal(s.Envelope)
	if err != nil {
		return ErrMalformed.Wrapf("%v", err)
	}
	if !verifyTx(s.Envelope.Sender, s.Envelope.ChainID, msg, s.Signature) {
		return s.BadSignature()
	}
	return nil
}

// BadSignature is the error VerifySignature returns when s's signature does
// not verify, for a caller that remembers an earlier failed verification of
// the same bytes.
func (s *Signed) BadSignature() error {
	return ErrBadSignature.Wrapf("signature does not match sender %s", s.Envelope.SenderAddress())
}

// Hash is the transaction's identifier: SHA-256 of its bytes, the same hash
// CometBFT uses, so `query tx` finds it.
func Hash(b []byte) [32]byte { return sha256.Sum256(b) }
