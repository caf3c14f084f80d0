package tee

import (
	"bytes"
	"errors"
	"testing"
)

func testSealer(t testing.TB, kind Kind, key string) *Sealer {
	t.Helper()
	s, err := NewSealer(kind, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	keyA = "0123456789abcdef0123456789abcdef"
	keyB = "fedcba9876543210fedcba9876543210"
)

func TestSealRoundTrip(t *testing.T) {
	s := testSealer(t, KindSim, keyA)
	for _, tc := range []struct {
		name      string
		label     string
		plaintext []byte
	}{
		{"empty", "identity", nil},
		{"short", "identity", []byte("x")},
		{"binary", "checkpoint/42", bytes.Repeat([]byte{0, 1, 0xff}, 1000)},
		{"label with NUL", "a\x00b", []byte("secret")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := s.Seal(tc.label, tc.plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != len(tc.plaintext)+SealOverhead {
				t.Fatalf("sealed length %d, want %d", len(sealed), len(tc.plaintext)+SealOverhead)
			}
			if len(tc.plaintext) > 4 && bytes.Contains(sealed, tc.plaintext) {
				t.Fatal("plaintext visible in sealed data")
			}
			got, err := s.Unseal(tc.label, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("unsealed %x, want %x", got, tc.plaintext)
			}
			again, err := s.Seal(tc.label, tc.plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(again, sealed) {
				t.Fatal("two seals of the same data are equal: nonce reused")
			}
		})
	}
}

func TestUnsealRefused(t *testing.T) {
	s := testSealer(t, KindSim, keyA)
	sealed, err := s.Seal("identity", []byte("the identity key"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name   string
		sealer *Sealer
		label  string
		data   []byte
	}{
		{"other label", s, "checkpoint", sealed},
		{"label prefix", s, "identit", sealed},
		{"other key", testSealer(t, KindSim, keyB), "identity", sealed},
		{"other kind", testSealer(t, KindSGX, keyA), "identity", sealed},
		{"flipped magic", s, "identity", flip(0)},
		{"flipped version", s, "identity", flip(4)},
		{"flipped nonce", s, "identity", flip(10)},
		{"flipped ciphertext", s, "identity", flip(sealHeaderSize)},
		{"flipped tag", s, "identity", flip(len(sealed) - 1)},
		{"truncated", s, "identity", sealed[:len(sealed)-1]},
		{"extended", s, "identity", append(bytes.Clone(sealed), 0)},
		{"header only", s, "identity", sealed[:sealHeaderSize]},
		{"empty", s, "identity", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.Unseal(tc.label, tc.data)
			if !errors.Is(err, ErrUnsealFailed) {
				t.Fatalf("Unseal = %x, %v; want ErrUnsealFailed", got, err)
			}
			if got != nil {
				t.Fatal("plaintext returned with an error")
			}
		})
	}
}

func TestEveryByteAuthenticated(t *testing.T) {
	s := testSealer(t, KindTDX, keyA)
	sealed, err := s.Seal("l", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		b := bytes.Clone(sealed)
		b[i] ^= 0x80
		if _, err := s.Unseal("l", b); !errors.Is(err, ErrUnsealFailed) {
			t.Fatalf("byte %d flipped: err = %v", i, err)
		}
	}
}

func TestSealerErrors(t *testing.T) {
	if _, err := NewSealer(KindSim, make([]byte, MinSealingKeySize-1)); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewSealer("", []byte(keyA)); err == nil {
		t.Fatal("empty kind accepted")
	}
	if _, err := NewSealer("a\x00b", []byte(keyA)); err == nil {
		t.Fatal("kind with NUL accepted")
	}
	key := []byte(keyA)
	s, err := NewSealer(KindSim, key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("x", []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 1 // the Sealer keeps its own copy
	if _, err := s.Unseal("x", sealed); err != nil {
		t.Fatalf("caller's key buffer changed the sealer: %v", err)
	}
	if _, err := s.Seal("", []byte("p")); err == nil {
		t.Fatal("empty label accepted by Seal")
	}
	if _, err := s.Unseal("", sealed); err == nil || errors.Is(err, ErrUnsealFailed) {
		t.Fatalf("empty label: err = %v, want a label error", err)
	}
}

func FuzzUnseal(f *testing.F) {
	s := testSealer(f, KindSim, keyA)
	sealed, err := s.Seal("label", []byte("seed plaintext"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte{})
	f.Add([]byte(sealMagic))
	f.Add(append([]byte(sealMagic), 2))
	f.Add(make([]byte, SealOverhead))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := s.Unseal("label", data)
		if err != nil {
			if !errors.Is(err, ErrUnsealFailed) {
				t.Fatalf("error does not match ErrUnsealFailed: %v", err)
			}
			return
		}
		// Only a genuine seal can open. (Fuzz workers run this setup again,
		// with a fresh nonce, so compare the plaintext, not the blob.)
		if string(got) != "seed plaintext" {
			t.Fatalf("forged sealed data opened: %x -> %q", data, got)
		}
	})
}
