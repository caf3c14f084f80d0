package mq

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

const testChain = "phala-test"

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func validEgress(key ed25519.PrivateKey) mq.Egress {
	return mq.Egress{Version: mq.EgressVersion, Sender: key.Public().(ed25519.PublicKey), Seq: 1, Topic: "registry.heartbeat", Payload: []byte{0x81, 0x01}}
}

func TestDecodeSubmit(t *testing.T) {
	key := testKey(1)
	sign := func(mutate func(*mq.Egress)) []byte {
		e := validEgress(key)
		mutate(&e)
		return codec.MustMarshal(mq.SignEgress(testChain, key, e))
	}
	valid := sign(func(*mq.Egress) {})
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"valid", valid, nil},
		{"empty", nil, mq.ErrInvalid},
		{"garbage", []byte("garbage"), mq.ErrInvalid},
		{"truncated", valid[:len(valid)-1], mq.ErrInvalid},
		{"trailing byte", append(append([]byte{}, valid...), 0), mq.ErrInvalid},
		{"wrong version", sign(func(e *mq.Egress) { e.Version = 2 }), mq.ErrInvalid},
		{"short sender", sign(func(e *mq.Egress) { e.Sender = e.Sender[:31] }), mq.ErrInvalid},
		{"sequence zero", sign(func(e *mq.Egress) { e.Seq = 0 }), mq.ErrInvalid},
		{"no topic", sign(func(e *mq.Egress) { e.Topic = "" }), mq.ErrInvalid},
		{"long topic", sign(func(e *mq.Egress) { e.Topic = strings.Repeat("t", mq.MaxTopicLen+1) }), mq.ErrInvalid},
		{"other signer", codec.MustMarshal(mq.SignedEgress{Egress: validEgress(key), Signature: mq.SignEgress(testChain, testKey(2), validEgress(key)).Signature}), mq.ErrBadSignature},
		{"other chain", codec.MustMarshal(mq.SignEgress("other", key, validEgress(key))), mq.ErrBadSignature},
		{"no signature", codec.MustMarshal(mq.SignedEgress{Egress: validEgress(key)}), mq.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mq.DecodeSubmit(testChain, tc.body)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestGenesisSectionIsEmptyObject(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{{`{}`, true}, {`{"seq":1}`, false}, {`[]`, false}, {`nope`, false}}
	for _, tc := range tests {
		if err := (Module{}).InitGenesis(nil, []byte(tc.raw)); (err == nil) != tc.ok {
			t.Errorf("genesis %s: %v", tc.raw, err)
		}
	}
}

// FuzzSubmitBody feeds arbitrary "mq.submit" bodies to the decoder: it must
// never panic, and whatever it accepts is canonical and verifies.
func FuzzSubmitBody(f *testing.F) {
	key := testKey(3)
	valid := codec.MustMarshal(mq.SignEgress(testChain, key, validEgress(key)))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	f.Add([]byte{0x82, 0x80, 0x40})
	f.Add(codec.MustMarshal(mq.SignedEgress{Egress: validEgress(key)}))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := mq.DecodeSubmit(testChain, body)
		if err != nil {
			if !errors.Is(err, mq.ErrInvalid) && !errors.Is(err, mq.ErrBadSignature) {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		if !bytes.Equal(codec.MustMarshal(s), body) {
			t.Fatalf("accepted a non-canonical body %x", body)
		}
		if err := s.Verify(testChain); err != nil {
			t.Fatalf("accepted a message that does not verify: %v", err)
		}
	})
}
