package mq

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
)

// The mq module's own names, gas, error kinds and the strict decoding of
// its one transaction, shared by the chain (chain/mq), relays and clients.

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "mq"

// Method and query names.
const (
	MethodSubmit  = "mq.submit"   // body: SignedEgress
	QuerySequence = "mq/sequence" // data: identity key → uint64
)

// Event kinds.
const (
	// EventAccepted is emitted for every accepted message.
	EventAccepted = "mq.egress"
	// EventDuplicateContent is emitted instead when a gatekeeper's message
	// repeats content a gatekeeper already sent: the sender's sequence
	// advances, nothing is routed, and the message is republished as
	// OutcomeDuplicate.
	EventDuplicateContent = "mq.egress_duplicate_content"
	// EventRejected is emitted when the topic's module refused the payload:
	// the sequence number is used up and the message republished as
	// OutcomeRefused, so one bad message never wedges its sender's stream,
	// but the module's state is unchanged. Attributes say why.
	EventRejected = "mq.egress_rejected"
)

// SubmitGas is the execution cost of "mq.submit": one ed25519 verification
// (like a transfer's envelope), a few reads and writes, and the topic's
// handler, which is small (heartbeats). The fee already grows with the size.
const SubmitGas = 5_000

// MaxTopicLen bounds a topic name: topics are routing names, not data.
const MaxTopicLen = 64

// Stable error kinds.
var (
	ErrInvalid        = errs.Register(Name, 1, "malformed egress message")
	ErrBadSignature   = errs.Register(Name, 2, "egress signature does not verify")
	ErrUnknownSender  = errs.Register(Name, 3, "egress sender is not a registered node")
	ErrInactiveSender = errs.Register(Name, 4, "egress sender is not active")
	// ErrDuplicate means the chain already accepted this sequence number:
	// a relay treats it as delivered.
	ErrDuplicate    = errs.Register(Name, 5, "already accepted")
	ErrSequenceGap  = errs.Register(Name, 6, "egress sequence number skips ahead")
	ErrUnknownTopic = errs.Register(Name, 7, "no module owns this egress topic")
	ErrCorruptState = errs.Register(Name, 8, "corrupt mq state")
)

// DecodeSubmit strictly decodes an "mq.submit" body and checks its form and
// signature for chainID.
func DecodeSubmit(chainID string, body []byte) (SignedEgress, error) {
	var s SignedEgress
	if err := codec.UnmarshalCanonical(body, &s); err != nil {
		return s, ErrInvalid.Wrapf("body: %v", err)
	}
	if err := checkForm(s.Egress); err != nil {
		return s, err
	}
	if err := s.Verify(chainID); err != nil {
		// The form passed above, so what fails is the signature.
		return s, ErrBadSignature.Wrapf("%v", err)
	}
	return s, nil
}

// checkForm refuses what cannot be a valid message before any signature
// work, so that a malformed message gets its own code.
func checkForm(e Egress) error {
	switch {
	case e.Version != EgressVersion:
		return ErrInvalid.Wrapf("version %d, want %d", e.Version, EgressVersion)
	case len(e.Sender) != ed25519.PublicKeySize:
		return ErrInvalid.Wrapf("sender key is %d bytes", len(e.Sender))
	case e.Seq == 0:
		return ErrInvalid.Wrapf("sequence numbers start at 1")
	case e.Topic == "" || len(e.Topic) > MaxTopicLen:
		return ErrInvalid.Wrapf("topic of %d bytes, want 1..%d", len(e.Topic), MaxTopicLen)
	}
	return nil
}
