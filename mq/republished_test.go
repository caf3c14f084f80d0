package mq_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

func signedEgress() mq.SignedEgress {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	e := mq.Egress{Version: mq.EgressVersion, Sender: key.Public().(ed25519.PublicKey), Seq: 1, Topic: "registry.heartbeat", Payload: []byte{0x81, 0x01}}
	return mq.SignEgress("phala-test", key, e)
}

func TestRepublishedRoundTrip(t *testing.T) {
	se := signedEgress()
	for _, o := range []mq.Outcome{mq.OutcomeAccepted, mq.OutcomeRefused, mq.OutcomeDuplicate} {
		msg := mq.Republish(se, o)
		if msg.Topic != mq.TopicEgress {
			t.Fatalf("topic %q", msg.Topic)
		}
		r, err := mq.DecodeRepublished(msg.Payload)
		if err != nil || r.Outcome != o || !bytes.Equal(codec.MustMarshal(r.Egress), codec.MustMarshal(se)) {
			t.Fatalf("%s: %+v %v", o, r, err)
		}
	}
}

func TestDecodeRepublishedRefusesWhatTheChainCannotHaveWritten(t *testing.T) {
	se := signedEgress()
	enc := func(mutate func(*mq.Republished)) []byte {
		r := mq.Republished{Version: mq.RepublishedVersion, Egress: se, Outcome: mq.OutcomeAccepted}
		mutate(&r)
		return codec.MustMarshal(r)
	}
	valid := enc(func(*mq.Republished) {})
	tests := map[string][]byte{
		"empty":                  nil,
		"a bare signed egress":   codec.MustMarshal(se),
		"truncated":              valid[:len(valid)-1],
		"trailing byte":          append(bytes.Clone(valid), 0),
		"wrong version":          enc(func(r *mq.Republished) { r.Version = 2 }),
		"no outcome":             enc(func(r *mq.Republished) { r.Outcome = 0 }),
		"unknown outcome":        enc(func(r *mq.Republished) { r.Outcome = 4 }),
		"egress without a topic": enc(func(r *mq.Republished) { r.Egress.Egress.Topic = "" }),
		"egress of sequence 0":   enc(func(r *mq.Republished) { r.Egress.Egress.Seq = 0 }),
	}
	for name, payload := range tests {
		if _, err := mq.DecodeRepublished(payload); !errors.Is(err, mq.ErrBadRepublished) {
			t.Errorf("%s: %v, want %v", name, err, mq.ErrBadRepublished)
		}
	}
	// A longer encoding of the same value is decoded alike: the enclave
	// only ever reads the chain's own bytes, proven by the app hash, so
	// canonical form is not checked there (it would double the cost).
	long := append([]byte{0x98, 0x03}, valid[1:]...) // array(3) in two bytes
	if r, err := mq.DecodeRepublished(long); err != nil || !bytes.Equal(codec.MustMarshal(r), valid) {
		t.Errorf("non-canonical length: %+v %v", r, err)
	}
}

// FuzzDecodeRepublished: the decoder never panics, every error is coded,
// and what it accepts is a valid republication that re-encodes and decodes
// to the same value.
func FuzzDecodeRepublished(f *testing.F) {
	se := signedEgress()
	for _, o := range []mq.Outcome{mq.OutcomeAccepted, mq.OutcomeRefused, mq.OutcomeDuplicate} {
		f.Add(mq.Republish(se, o).Payload)
	}
	f.Add(codec.MustMarshal(se))
	f.Add([]byte{0x83, 0x01, 0x82, 0x80, 0x40, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := mq.DecodeRepublished(payload)
		if err != nil {
			if !errors.Is(err, mq.ErrBadRepublished) {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		again, err := mq.DecodeRepublished(codec.MustMarshal(r))
		if !r.Outcome.Valid() || err != nil || !bytes.Equal(codec.MustMarshal(again), codec.MustMarshal(r)) {
			t.Fatalf("accepted %x as %+v (%v)", payload, r, err)
		}
	})
}
