package mq

import (
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
)

// RepublishedVersion is the version of Republished this code writes and
// accepts.
const RepublishedVersion = 1

// Outcome is what the chain made of a sequenced egress message. Every
// message whose sequence number the chain used up is republished once with
// its outcome, so enclaves read the fact instead of re-deriving the owning
// module's rules.
type Outcome uint8

// Outcomes. Zero is no outcome, so a missing field never reads as accepted.
const (
	// OutcomeAccepted: the topic's module applied the payload.
	OutcomeAccepted Outcome = 1
	// OutcomeRefused: the topic's module refused the payload and its state
	// is unchanged (event EventRejected says why).
	OutcomeRefused Outcome = 2
	// OutcomeDuplicate: a gatekeeper's copy of content some gatekeeper
	// already sent; the chain counts such content once and did not route
	// this copy (event EventDuplicateContent). The first copy's own
	// republication carries what the module made of it.
	OutcomeDuplicate Outcome = 3
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool { return o >= OutcomeAccepted && o <= OutcomeDuplicate }

func (o Outcome) String() string {
	switch o {
	case OutcomeAccepted:
		return "accepted"
	case OutcomeRefused:
		return "refused"
	case OutcomeDuplicate:
		return "duplicate"
	}
	return "invalid"
}

// Republished is the payload of TopicEgress: a signed egress message the
// chain sequenced and what came of it.
type Republished struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Egress  SignedEgress
	Outcome Outcome
}

// ErrBadRepublished is returned for a TopicEgress payload that cannot be
// the chain's: an enclave counts it as malformed and acts on nothing in it.
var ErrBadRepublished = errs.Register(Name, 9, "malformed republished egress")

// Republish is the message the chain puts on the block's list for
// enclaves once it knows what came of se.
func Republish(se SignedEgress, o Outcome) Message {
	return Message{Topic: TopicEgress, Payload: codec.MustMarshal(Republished{Version: RepublishedVersion, Egress: se, Outcome: o})}
}

// DecodeRepublished strictly decodes a TopicEgress payload: strict CBOR,
// this version, a known outcome and an egress of valid form. The signature
// is not checked again, and canonical form is not either (it costs a second
// encoding of every message, a third of a replay's folding time): the chain
// checked the signature before sequencing, and the message list, these
// exact bytes, is proven by the app hash, so every enclave decodes the same.
func DecodeRepublished(payload []byte) (Republished, error) {
	var r Republished
	if err := codec.Unmarshal(payload, &r); err != nil {
		return Republished{}, ErrBadRepublished.Wrapf("payload: %v", err)
	}
	switch {
	case r.Version != RepublishedVersion:
		return Republished{}, ErrBadRepublished.Wrapf("version %d, want %d", r.Version, RepublishedVersion)
	case !r.Outcome.Valid():
		return Republished{}, ErrBadRepublished.Wrapf("outcome %d", r.Outcome)
	}
	if err := checkForm(r.Egress.Egress); err != nil {
		return Republished{}, ErrBadRepublished.Wrapf("%v", err)
	}
	return r, nil
}
