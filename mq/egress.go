package mq

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/sigctx"
)

// EgressVersion is the version of Egress this code writes and accepts.
const EgressVersion = 1

// TopicEgress is the ingress topic on which the chain republishes every
// egress message it sequenced, so that enclaves (the sender included) see
// it. Its payload is a Republished: the SignedEgress and its Outcome.
const TopicEgress = "mq.egress"

// Egress is a message from an enclave to the chain. Its sender is the
// enclave's identity key; Seq counts that sender's messages from 1, and the
// chain accepts exactly the next one, so whoever relays them nothing is
// lost, duplicated or reordered.
type Egress struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Sender  ed25519.PublicKey
	Seq     uint64
	Topic   string // routes the message to the chain module that owns it
	Payload []byte // the topic's canonical CBOR payload
}

// SignedEgress is an Egress with its sender's signature under
// sigctx.Egress for one chain.
type SignedEgress struct {
	_         struct{} `cbor:",toarray"`
	Egress    Egress
	Signature []byte
}

// ErrBadEgress is returned for an egress message that is malformed or
// whose signature does not verify.
var ErrBadEgress = errors.New("mq: invalid egress message")

// SignEgress signs e with the sender's identity key.
func SignEgress(chainID string, key ed25519.PrivateKey, e Egress) SignedEgress {
	return SignedEgress{Egress: e, Signature: sigctx.Egress.Sign(key, chainID, codec.MustMarshal(e))}
}

// Verify checks the message's form and its signature by its sender.
func (s SignedEgress) Verify(chainID string) error {
	e := s.Egress
	switch {
	case e.Version != EgressVersion:
		return fmt.Errorf("%w: version %d", ErrBadEgress, e.Version)
	case len(e.Sender) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: sender key is %d bytes", ErrBadEgress, len(e.Sender))
	case e.Seq == 0:
		return fmt.Errorf("%w: sequence numbers start at 1", ErrBadEgress)
	case e.Topic == "":
		return fmt.Errorf("%w: no topic", ErrBadEgress)
	}
	if !sigctx.Egress.Verify(e.Sender, chainID, codec.MustMarshal(e), s.Signature) {
		return fmt.Errorf("%w: bad signature", ErrBadEgress)
	}
	return nil
}
