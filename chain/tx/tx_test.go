package tx

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

type body struct {
	_ struct{} `cbor:",toarray"`
	N uint64
}

func signedSample(t testing.TB) ([]byte, ed25519.PrivateKey) {
	_, priv, _ := ed25519.GenerateKey(nil)
	env, err := New("test-chain", priv.Public().(ed25519.PublicKey), 3, token.FromUint64(10), 1000, "bank.transfer", body{N: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.Sign(priv)
	if err != nil {
		t.Fatal(err)
	}
	return b, priv
}

func TestSignDecodeVerify(t *testing.T) {
	b, priv := signedSample(t)
	s, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckChain("test-chain"); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(s.CheckChain("other"), ErrWrongChain) {
		t.Fatal("wrong chain accepted")
	}
	if s.Envelope.SenderAddress().String() == "" || !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(s.Envelope.Sender)) {
		t.Fatal("sender lost")
	}
}

func TestDecodeRefusesBadInput(t *testing.T) {
	good, priv := signedSample(t)
	s, _ := Decode(good)
	mutate := func(f func(*Signed)) []byte {
		c := *s
		f(&c)
		return codec.MustMarshal(c)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"garbage", []byte{0xff, 0x00}, ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"truncated", good[:len(good)-3], ErrMalformed},
		{"trailing", append(append([]byte{}, good...), 0), ErrMalformed},
		{"version", mutate(func(c *Signed) { c.Envelope.Version = 2 }), ErrUnsupportedVersion},
		{"unsigned", mutate(func(c *Signed) { c.Signature = nil }), ErrUnsigned},
		{"short key", mutate(func(c *Signed) { c.Envelope.Sender = c.Envelope.Sender[:4] }), ErrMalformed},
		{"too large", make([]byte, HardMaxSize+1), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A valid shape with a changed field no longer matches its signature.
	changed, _ := Decode(mutate(func(c *Signed) { c.Envelope.Nonce++ }))
	if !errors.Is(changed.VerifySignature(), ErrBadSignature) {
		t.Fatal("tampered envelope verified")
	}
	_ = priv
}

func FuzzDecode(f *testing.F) {
	good, _ := signedSample(f)
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0x82, 0x80, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			return
		}
		// Anything accepted re-encodes to exactly the same bytes.
		again := codec.MustMarshal(s)
		if string(again) != string(b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
		_ = s.VerifySignature()
	})
}
