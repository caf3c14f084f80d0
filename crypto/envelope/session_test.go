package envelope

import (
	"bytes"
	"errors"
	"testing"
)

func sessionCipher(t testing.TB, chainID string, d SessionDirection, secret, binding []byte) SessionCipher {
	t.Helper()
	c, err := NewSessionCipher(chainID, d, secret, binding)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSessionCipherBindings: a session message opens only with the same
// chain, direction, secret, binding, sequence number and aad.
func TestSessionCipherBindings(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, SessionSecretSize)
	other := bytes.Repeat([]byte{8}, SessionSecretSize)
	c := sessionCipher(t, chain, SessionQuery, secret, []byte("s1"))
	ct, err := c.Seal(5, []byte("query"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := c.Open(5, ct, []byte("aad")); err != nil || string(plain) != "query" {
		t.Fatalf("open: %q %v", plain, err)
	}
	flipped := bytes.Clone(ct)
	flipped[0] ^= 1
	tests := []struct {
		name   string
		cipher SessionCipher
		seq    uint64
		ct     []byte
		aad    string
	}{
		{"other chain", sessionCipher(t, "other", SessionQuery, secret, []byte("s1")), 5, ct, "aad"},
		{"other direction", sessionCipher(t, chain, SessionReply, secret, []byte("s1")), 5, ct, "aad"},
		{"other secret", sessionCipher(t, chain, SessionQuery, other, []byte("s1")), 5, ct, "aad"},
		{"other session", sessionCipher(t, chain, SessionQuery, secret, []byte("s2")), 5, ct, "aad"},
		{"other sequence number", c, 6, ct, "aad"},
		{"other aad", c, 5, ct, "dda"},
		{"changed byte", c, 5, flipped, "aad"},
		{"truncated", c, 5, ct[:tagLen-1], "aad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.cipher.Open(tt.seq, tt.ct, []byte(tt.aad)); err == nil {
				t.Fatal("opened")
			}
		})
	}
}

func TestSessionCipherRefusesBadInput(t *testing.T) {
	if _, err := NewSessionCipher(chain, SessionQuery, []byte("short"), nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := NewSessionCipher(chain, SessionDirection{}, make([]byte, SessionSecretSize), nil); !errors.Is(err, ErrPurpose) {
		t.Errorf("zero direction: %v", err)
	}
	var zero SessionCipher
	if _, err := zero.Seal(1, nil, nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("zero cipher: %v", err)
	}
}

// FuzzSessionOpen: opening arbitrary bytes never panics and never succeeds
// without the key.
func FuzzSessionOpen(f *testing.F) {
	c := sessionCipher(f, chain, SessionQuery, make([]byte, SessionSecretSize), []byte("s"))
	good, _ := c.Seal(1, []byte("hello"), nil)
	f.Add(uint64(1), good)
	f.Add(uint64(0), []byte{})
	f.Fuzz(func(t *testing.T, seq uint64, ct []byte) {
		plain, err := c.Open(seq, ct, nil)
		if err == nil && !(seq == 1 && bytes.Equal(ct, good) && string(plain) == "hello") {
			t.Fatalf("opened forged bytes: %q", plain)
		}
	})
}

func BenchmarkSessionSealOpen(b *testing.B) {
	c := sessionCipher(b, chain, SessionQuery, make([]byte, SessionSecretSize), []byte("s"))
	var seq uint64
	for b.Loop() {
		seq++
		ct, _ := c.Seal(seq, benchPayload, nil)
		if _, err := c.Open(seq, ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}
