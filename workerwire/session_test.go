package workerwire

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
)

const chain = "workerwire-test"

// TestSessionRoundTrip: a grant opens with the request's reply key only,
// and an answer only in its own session, under its own number.
func TestSessionRoundTrip(t *testing.T) {
	worker := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	contract := contractsapi.Hash{1}
	o := SessionOpen{Contract: contract, Nonce: NewNonce(), Expiry: 10, ReplyKey: reply.PublicKey().Bytes()}
	g := NewSessionGrant(10)
	signed, err := SealSessionGrant(chain, 5, o, g, worker)
	if err != nil {
		t.Fatal(err)
	}
	got, err := signed.Open(chain, o.Nonce, reply)
	if err != nil || string(got.ID) != string(g.ID) || string(got.Secret) != string(g.Secret) {
		t.Fatalf("grant: %+v %v", got, err)
	}
	stranger, _ := envelope.GenerateKey(envelope.Default)
	if _, err := signed.Open(chain, o.Nonce, stranger); !errors.Is(err, ErrOpen) {
		t.Fatalf("a stranger's key: %v", err)
	}
	forged := signed
	forged.Height++
	if _, err := forged.Open(chain, o.Nonce, reply); !errors.Is(err, ErrSignature) {
		t.Fatalf("another height: %v", err)
	}
	_, rc, err := got.Ciphers(chain, contract)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := SealSessionReply(chain, 6, contract, g.ID, 3, rc, QueryResult{Output: []byte("42")}, worker)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ans.Open(chain, contract, g.ID, 3, rc); err != nil || string(r.Output) != "42" {
		t.Fatalf("answer: %+v %v", r, err)
	}
	if _, err := ans.Open(chain, contract, g.ID, 4, rc); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another number: %v", err)
	}
	if _, err := ans.Open(chain, contractsapi.Hash{2}, g.ID, 3, rc); !errors.Is(err, ErrOpen) {
		t.Fatalf("another contract: %v", err)
	}
}

func TestSessionOpenSignature(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	o := SessionOpen{Contract: contractsapi.Hash{1}, Nonce: NewNonce(), Expiry: 10, ReplyKey: []byte{1}}
	if !o.VerifyCaller(chain) {
		t.Fatal("an anonymous request verifies")
	}
	o.Sign(chain, key)
	if !o.VerifyCaller(chain) || o.VerifyCaller("other") {
		t.Fatal("a signed request verifies on its chain only")
	}
	o.Expiry++
	if o.VerifyCaller(chain) {
		t.Fatal("a changed request verifies")
	}
}

// FuzzSessionDecoders: the session plaintexts a worker or client decodes
// from untrusted bytes never panic, and what decodes re-encodes the same.
func FuzzSessionDecoders(f *testing.F) {
	f.Add(codec.MustMarshal(SessionOpen{Nonce: make([]byte, NonceSize), Expiry: 3}))
	f.Add(codec.MustMarshal(SessionQuery{Method: "m", Args: []byte("{}")}))
	f.Add(codec.MustMarshal(NewSessionGrant(9)))
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o SessionOpen
		if codec.UnmarshalCanonical(b, &o) == nil && string(codec.MustMarshal(o)) != string(b) {
			t.Fatal("SessionOpen does not re-encode canonically")
		}
		var q SessionQuery
		if codec.UnmarshalCanonical(b, &q) == nil && string(codec.MustMarshal(q)) != string(b) {
			t.Fatal("SessionQuery does not re-encode canonically")
		}
		var g SessionGrant
		_ = codec.UnmarshalCanonical(b, &g)
	})
}
