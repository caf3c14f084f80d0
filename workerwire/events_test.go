package workerwire

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/envelope"
)

// TestEventsRequestSignature: a signed request verifies on its wireChain only
// and not once any field changed.
func TestEventsRequestSignature(t *testing.T) {
	key := identity(t)
	q := EventsRequest{Contract: contractsapi.Hash{1}, After: 3, Limit: 10, Nonce: NewNonce(), Expiry: 50, ReplyKey: []byte{1, 2}}
	q.Sign(wireChain, key)
	if !q.VerifySignature(wireChain) {
		t.Fatal("a signed request does not verify")
	}
	if q.VerifySignature("other") {
		t.Fatal("verifies on another wireChain")
	}
	for name, edit := range map[string]func(*EventsRequest){
		"after":     func(q *EventsRequest) { q.After++ },
		"limit":     func(q *EventsRequest) { q.Limit++ },
		"contract":  func(q *EventsRequest) { q.Contract[0]++ },
		"expiry":    func(q *EventsRequest) { q.Expiry++ },
		"reply key": func(q *EventsRequest) { q.ReplyKey = []byte{9} },
		"account":   func(q *EventsRequest) { q.Account = identity(t).Public().(ed25519.PublicKey) },
		"short key": func(q *EventsRequest) { q.Account = q.Account[:31] },
	} {
		c := q
		c.Account = append([]byte(nil), q.Account...)
		edit(&c)
		if c.VerifySignature(wireChain) {
			t.Errorf("%s changed, still verifies", name)
		}
	}
}

// TestEventsReplySealed: the answer opens with the request's reply key
// and nonce only, and its signature covers it.
func TestEventsReplySealed(t *testing.T) {
	id := identity(t)
	reply, _ := envelope.GenerateKey(envelope.Default)
	q := EventsRequest{Nonce: NewNonce(), ReplyKey: reply.PublicKey().Bytes()}
	res := EventsResult{Events: []AccountEvent{{Index: 1, Seq: 2, Height: 3, Topic: "t", Data: []byte("d")}}, Oldest: 1}
	s, err := SealEvents(wireChain, 7, q, res, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Open(wireChain, q.Nonce, reply)
	if err != nil || len(got.Events) != 1 || got.Events[0].Topic != "t" || got.Oldest != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	stranger, _ := envelope.GenerateKey(envelope.Default)
	if _, err := s.Open(wireChain, q.Nonce, stranger); !errors.Is(err, ErrOpen) {
		t.Fatalf("a stranger's key: %v", err)
	}
	if _, err := s.Open(wireChain, NewNonce(), reply); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another nonce: %v", err)
	}
	bad := s
	bad.Height++
	if _, err := bad.Open(wireChain, q.Nonce, reply); !errors.Is(err, ErrSignature) {
		t.Fatalf("a changed height: %v", err)
	}
}
