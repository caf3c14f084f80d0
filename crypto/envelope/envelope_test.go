package envelope

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"testing"

	"github.com/phala-go/phala/codec"
)

const chain = "phala-test-1"

type hpkePriv = hpke.PrivateKey

var allSuites = []Suite{SuiteMLKEM768X25519, SuiteX25519}

func mustKey(t testing.TB, s Suite) hpkePriv {
	t.Helper()
	k, err := GenerateKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSeal(t testing.TB, p Purpose, k hpkePriv, msg, aad []byte) []byte {
	t.Helper()
	env, err := Seal(chain, p, k.PublicKey(), msg, aad)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, MaxPlaintext)
	tests := []struct {
		name string
		msg  []byte
		aad  []byte
	}{
		{"small", []byte("the master key"), nil},
		{"empty plaintext", nil, nil},
		{"with aad", []byte("command"), []byte("contract 7")},
		{"largest", big, []byte("x")},
	}
	for _, s := range allSuites {
		for _, tc := range tests {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				k := mustKey(t, s)
				env := mustSeal(t, Command, k, tc.msg, tc.aad)
				e, err := Decode(env)
				if err != nil || e.Suite != s || e.Version != Version {
					t.Fatalf("decode: %+v %v", e.Suite, err)
				}
				got, err := Open(chain, Command, k, env, tc.aad)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.msg) {
					t.Fatal("plaintext differs")
				}
			})
		}
	}
}

func TestSealToBytes(t *testing.T) {
	for _, s := range allSuites {
		k := mustKey(t, s)
		env, err := SealTo(chain, Query, s, k.PublicKey().Bytes(), []byte("q"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Open(chain, Query, k, env, nil); err != nil || string(got) != "q" {
			t.Fatalf("%s: %q %v", s, got, err)
		}
		if _, err := SealTo(chain, Query, s, k.PublicKey().Bytes()[1:], []byte("q"), nil); !errors.Is(err, ErrBadKey) {
			t.Fatalf("%s: short key: %v", s, err)
		}
	}
	if _, err := SealTo(chain, Query, 99, make([]byte, 32), nil, nil); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("unknown suite key: %v", err)
	}
}

// Every binding of the info and the aad must be checked.
func TestBindingRefused(t *testing.T) {
	for _, s := range allSuites {
		k := mustKey(t, s)
		other := mustKey(t, s)
		env := mustSeal(t, ClusterKeyHandout, k, []byte("cluster key"), []byte("aad"))
		tests := []struct {
			name  string
			chain string
			p     Purpose
			key   hpkePriv
			aad   []byte
		}{
			{"other chain", "phala-other", ClusterKeyHandout, k, []byte("aad")},
			{"other purpose", chain, MasterKeyHandout, k, []byte("aad")},
			{"other recipient", chain, ClusterKeyHandout, other, []byte("aad")},
			{"other aad", chain, ClusterKeyHandout, k, []byte("aae")},
			{"missing aad", chain, ClusterKeyHandout, k, nil},
		}
		for _, tc := range tests {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				got, err := Open(tc.chain, tc.p, tc.key, env, tc.aad)
				if !errors.Is(err, ErrDecrypt) || got != nil {
					t.Fatalf("got %q, %v; want ErrDecrypt", got, err)
				}
			})
		}
	}
}

func TestTamperedByteRefused(t *testing.T) {
	for _, s := range allSuites {
		k := mustKey(t, s)
		env := mustSeal(t, Command, k, []byte("transfer 10"), nil)
		for i := range env {
			for _, flip := range []byte{0x01, 0x80} {
				bad := bytes.Clone(env)
				bad[i] ^= flip
				if got, err := Open(chain, Command, k, bad, nil); err == nil {
					t.Fatalf("%s: byte %d ^ %#x accepted: %q", s, i, flip, got)
				}
			}
		}
	}
}

func TestSuiteMismatchRefused(t *testing.T) {
	x := mustKey(t, SuiteX25519)
	h := mustKey(t, SuiteMLKEM768X25519)
	env := mustSeal(t, Query, x, []byte("q"), nil)
	if _, err := Open(chain, Query, h, env, nil); !errors.Is(err, ErrBadKey) {
		t.Fatalf("got %v, want ErrBadKey", err)
	}
}

func TestUnknownSuiteRefused(t *testing.T) {
	k := mustKey(t, SuiteX25519)
	env := mustSeal(t, Query, k, []byte("q"), nil)
	e, err := Decode(env)
	if err != nil {
		t.Fatal(err)
	}
	e.Suite = 7
	raw := codec.MustMarshal(e)
	if _, err := Open(chain, Query, k, raw, nil); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("open: got %v, want ErrUnknownSuite", err)
	}
	if _, err := GenerateKey(7); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("generate: %v", err)
	}
	if Suite(7).Known() || Suite(7).String() != "unknown-suite-7" {
		t.Fatal("suite 7 known")
	}
}

func TestMalformedRefused(t *testing.T) {
	k := mustKey(t, SuiteX25519)
	env := mustSeal(t, Query, k, []byte("q"), nil)
	good, _ := Decode(env)
	mutate := func(f func(*Envelope)) []byte {
		e := good
		e.Enc, e.Ciphertext = bytes.Clone(good.Enc), bytes.Clone(good.Ciphertext)
		f(&e)
		return codec.MustMarshal(e)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("not cbor at all"), ErrMalformed},
		{"trailing byte", append(bytes.Clone(env), 0), ErrMalformed},
		{"non-canonical length", append([]byte{0x98, 0x04}, env[1:]...), ErrMalformed},
		{"map instead of array", codec.MustMarshal(map[string]int{"a": 1}), ErrMalformed},
		{"version 2", mutate(func(e *Envelope) { e.Version = 2 }), ErrMalformed},
		{"short enc", mutate(func(e *Envelope) { e.Enc = e.Enc[1:] }), ErrMalformed},
		{"short ciphertext", mutate(func(e *Envelope) { e.Ciphertext = e.Ciphertext[:tagLen-1] }), ErrMalformed},
		{"too large", make([]byte, MaxSize+1), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open(chain, Query, k, tc.in, nil); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	for n := range len(env) {
		if _, err := Open(chain, Query, k, env[:n], nil); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}

func TestSealRefusals(t *testing.T) {
	k := mustKey(t, SuiteX25519)
	if _, err := Seal(chain, Purpose{}, k.PublicKey(), nil, nil); !errors.Is(err, ErrPurpose) {
		t.Fatalf("zero purpose: %v", err)
	}
	if _, err := Seal(chain, Query, nil, nil, nil); !errors.Is(err, ErrBadKey) {
		t.Fatalf("nil key: %v", err)
	}
	if _, err := Seal(chain, Query, k.PublicKey(), make([]byte, MaxPlaintext+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if _, err := Open(chain, Purpose{}, k, nil, nil); !errors.Is(err, ErrPurpose) {
		t.Fatalf("open zero purpose: %v", err)
	}
	if _, err := Open(chain, Query, nil, nil, nil); !errors.Is(err, ErrBadKey) {
		t.Fatalf("open nil key: %v", err)
	}
}

// Purposes are distinct registered names: two purposes sharing a name would
// let an envelope of one open as the other.
func TestPurposesDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range []Purpose{MasterKeyHandout, ClusterKeyHandout, Command, Query, QueryReply, Receipt} {
		if p.Name() == "" || seen[p.Name()] {
			t.Fatalf("purpose %q empty or repeated", p.Name())
		}
		seen[p.Name()] = true
	}
}

func FuzzOpen(f *testing.F) {
	keys := map[Suite]hpkePriv{}
	for _, s := range allSuites {
		keys[s] = mustKey(f, s)
		f.Add(mustSeal(f, Command, keys[s], []byte("seed"), nil))
	}
	f.Add([]byte{})
	f.Add([]byte{0x84, 0x01, 0x02, 0x40, 0x40})
	f.Add([]byte{0x84, 0x01, 0x01, 0x59, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range keys {
			if _, err := Open(chain, Command, k, b, nil); err != nil {
				continue
			}
			// Only an unmodified seed can open; it must decode and re-encode alike.
			e, err := Decode(b)
			if err != nil {
				t.Fatalf("opened but does not decode: %v", err)
			}
			if again, _ := e.Marshal(); !bytes.Equal(again, b) {
				t.Fatal("opened a non-canonical envelope")
			}
		}
	})
}
