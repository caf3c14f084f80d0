// Package outbox is the enclave's queue of signed egress the chain has not
// confirmed: sequence numbers, signing, and confirmation by the chain's
// republication of the messages it sequenced, whatever their outcome.
package outbox

import (
	"bytes"
	"crypto/ed25519"
	"log/slog"
	"slices"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// Outbox is the egress the chain has not yet confirmed.
type Outbox struct {
	_ struct{} `cbor:",toarray"`
	// NextSeq is the sequence number of the next message (from 1).
	NextSeq uint64
	// Pending are unconfirmed messages in sequence order.
	Pending []mq.SignedEgress
}

// New is an empty outbox whose first message gets sequence number 1.
func New() Outbox { return Outbox{NextSeq: 1} }

// Send signs a message from sender with the next sequence number and
// appends it.
func (o *Outbox) Send(chainID string, key ed25519.PrivateKey, topic string, payload []byte) {
	if o.NextSeq == 0 {
		o.NextSeq = 1
	}
	sender := key.Public().(ed25519.PublicKey)
	e := mq.Egress{Version: mq.EgressVersion, Sender: sender, Seq: o.NextSeq, Topic: topic, Payload: payload}
	o.Pending = append(o.Pending, mq.SignEgress(chainID, key, e))
	o.NextSeq++
}

// Waiting reports whether a message on topic still waits for the chain.
func (o *Outbox) Waiting(topic string) bool {
	return slices.ContainsFunc(o.Pending, func(se mq.SignedEgress) bool { return se.Egress.Topic == topic })
}

// Confirm drops every pending message up to se's sequence number: the
// chain sequences a sender's messages exactly in order, so the earlier
// ones were sequenced too. Whether the topic's module then accepted a
// message does not matter here: its sequence number is used up either way.
func (o *Outbox) Confirm(se mq.SignedEgress, log *slog.Logger) {
	n := 0
	for n < len(o.Pending) && o.Pending[n].Egress.Seq <= se.Egress.Seq {
		if o.Pending[n].Egress.Seq == se.Egress.Seq && !bytes.Equal(codec.MustMarshal(o.Pending[n]), codec.MustMarshal(se)) {
			// Same key, same number, other bytes: another enclave holds
			// this identity or this one lost its state.
			log.Error("the chain confirmed an egress message of ours that differs from ours", "seq", se.Egress.Seq)
		}
		n++
	}
	o.Pending = o.Pending[n:]
	if len(o.Pending) == 0 {
		o.Pending = nil
	}
	if o.NextSeq <= se.Egress.Seq {
		o.NextSeq = se.Egress.Seq + 1
	}
}

// Copy is the pending messages for a reader outside the loop. Messages are
// never changed in place, so a shallow copy is enough.
func (o *Outbox) Copy() []mq.SignedEgress { return slices.Clone(o.Pending) }
