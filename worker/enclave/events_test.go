package enclave

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// TestCheckEventsRequest: each refusal of an events request has its code;
// a well-formed, signed, unexpired one passes.
func TestCheckEventsRequest(t *testing.T) {
	const chain, height = "events-test", 100
	_, key, _ := ed25519.GenerateKey(nil)
	reply, _ := envelope.GenerateKey(envelope.Default)
	good := func(edit func(*workerwire.EventsRequest)) workerwire.EventsRequest {
		q := workerwire.EventsRequest{Nonce: workerwire.NewNonce(), Expiry: height + 10, ReplyKey: reply.PublicKey().Bytes()}
		if edit != nil {
			edit(&q)
		}
		q.Sign(chain, key)
		return q
	}
	for _, tc := range []struct {
		name string
		q    workerwire.EventsRequest
		want error
	}{
		{"good", good(nil), nil},
		{"expires now", good(func(q *workerwire.EventsRequest) { q.Expiry = height }), nil},
		{"expired", good(func(q *workerwire.EventsRequest) { q.Expiry = height - 1 }), ErrQueryExpired},
		{"too far ahead", good(func(q *workerwire.EventsRequest) { q.Expiry = height + workerwire.MaxQueryWindow + 1 }), ErrQueryMalformed},
		{"short nonce", good(func(q *workerwire.EventsRequest) { q.Nonce = q.Nonce[:8] }), ErrQueryMalformed},
		{"bad reply key", good(func(q *workerwire.EventsRequest) { q.ReplyKey = []byte{1} }), ErrQueryMalformed},
		{"unsigned", func() workerwire.EventsRequest { q := good(nil); q.Signature = nil; return q }(), ErrQuerySignature},
		{"signed by another", func() workerwire.EventsRequest {
			q := good(nil)
			_, other, _ := ed25519.GenerateKey(nil)
			q.Account = other.Public().(ed25519.PublicKey)
			return q
		}(), ErrQuerySignature},
		{"short account", func() workerwire.EventsRequest { q := good(nil); q.Account = q.Account[:5]; return q }(), ErrQueryMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEventsRequest(chain, height, tc.q)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
