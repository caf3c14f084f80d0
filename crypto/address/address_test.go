package address

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// bech32Charset is the bech32 alphabet, used to produce one-character typos.
const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// seqKey is the public key 00 01 02 ... 1f, the input of the golden vectors.
func seqKey() ed25519.PublicKey {
	pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
	for i := range pub {
		pub[i] = byte(i)
	}
	return pub
}

// encodeWith encodes raw bytes with any hrp and checksum variant, to build
// inputs that Parse must refuse.
func encodeWith(t *testing.T, hrp string, raw []byte, m bool) string {
	t.Helper()
	groups, err := bech32.ConvertBits(raw, 8, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	enc := bech32.Encode
	if m {
		enc = bech32.EncodeM
	}
	s, err := enc(hrp, groups)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The golden vectors were computed by an independent implementation (a
// short Python script using hashlib and the BIP-350 reference algorithm).
// They pin the derivation: changing it would move every account.
func TestGoldenVectors(t *testing.T) {
	tests := []struct {
		name    string
		addr    Address
		wantHex string
		wantStr string
	}{
		{"account of key 00..1f", FromPublicKey(seqKey()),
			"b2625534889f52cf719bb5d761c1924b1b766668",
			"pha1kf392dygnafv7uvmkhtkrsvjfvdhvengegjg5y"},
		{"module mining-reward", Module("mining-reward"),
			"9875bcc3da4256751d15f89cd7f664bed7c298f8",
			"pha1np6mes76gft828g4lzwd0anyhmtu9x8crlfq2f"},
		{"zero", Address{},
			"0000000000000000000000000000000000000000",
			"pha1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2ez4us"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(tc.addr[:]); got != tc.wantHex {
				t.Errorf("bytes = %s, want %s", got, tc.wantHex)
			}
			if got := tc.addr.String(); got != tc.wantStr {
				t.Errorf("String() = %s, want %s", got, tc.wantStr)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	var ones Address
	for i := range ones {
		ones[i] = 0xff
	}
	tests := []struct {
		name string
		addr Address
	}{
		{"zero", Address{}},
		{"all ones", ones},
		{"account", FromPublicKey(seqKey())},
		{"module", Module("fees")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.addr.String()
			if !strings.HasPrefix(s, HRP+"1") || len(s) != 42 {
				t.Fatalf("String() = %q, want pha1 and 42 characters", s)
			}
			for _, in := range []string{s, strings.ToUpper(s)} {
				got, err := Parse(in)
				if err != nil {
					t.Fatalf("Parse(%q): %v", in, err)
				}
				if got != tc.addr {
					t.Fatalf("Parse(%q) = %x, want %x", in, got, tc.addr)
				}
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	raw := FromPublicKey(seqKey())
	good := raw.String()
	tests := []struct {
		name  string
		input string
		want  string // substring of the error
	}{
		{"empty", "", "length 0"},
		{"hrp only", "pha1", "length 4"},
		{"mixed case", "PHA1" + good[4:], "mixed upper and lower case"},
		{"checksum", good[:len(good)-1] + "q", "checksum mismatch"},
		{"not in alphabet", good[:10] + "b" + good[11:], "not in the bech32 alphabet"},
		{"space", " " + good, "outside printable ASCII"},
		{"no separator", "phaqqqqqqqq", "separator"},
		{"too long", good + strings.Repeat("q", 60), "out of range"},
		{"wrong hrp", encodeWith(t, "cosmos", raw[:], true), `prefix "cosmos"`},
		{"hrp prefix", encodeWith(t, "phal", raw[:], true), `prefix "phal"`},
		{"bech32 not m", encodeWith(t, HRP, raw[:], false), "want bech32m"},
		{"19 bytes", encodeWith(t, HRP, raw[:19], true), "want 32"},
		{"21 bytes", encodeWith(t, HRP, append(raw[:], 0), true), "want 32"},
		{"32 bytes", encodeWith(t, HRP, make([]byte, 32), true), "want 32"},
		{"empty payload", encodeWith(t, HRP, nil, true), "want 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.input)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.input)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestParseErrorQuotesInput(t *testing.T) {
	_, err := Parse("pha1xyz")
	if err == nil || !strings.HasPrefix(err.Error(), `invalid address "pha1xyz": `) {
		t.Fatalf("error = %v, want it to start with the quoted input", err)
	}
	_, err = Parse(strings.Repeat("a", 10000))
	if err == nil || len(err.Error()) > 2*maxQuoted {
		t.Fatalf("error for a huge input is %d bytes long", len(err.Error()))
	}
}

// Every single-character substitution, anywhere but the separator, must be
// refused: the checksum guarantees it.
func TestSingleCharacterChangeDetected(t *testing.T) {
	addrs := []Address{{}, FromPublicKey(seqKey()), Module("mining-reward")}
	for _, a := range addrs {
		s := a.String()
		for i := range len(s) {
			if i == len(HRP) {
				continue // the separator '1' is not part of the checksummed data
			}
			for _, c := range bech32Charset {
				if byte(c) == s[i] {
					continue
				}
				typo := s[:i] + string(c) + s[i+1:]
				if got, err := Parse(typo); err == nil {
					t.Fatalf("typo %q of %q parsed as %s", typo, s, got)
				}
			}
		}
	}
}

func TestModuleAddressesDistinct(t *testing.T) {
	names := []string{"", "mining-reward", "mining-reward ", "fees", "treasury", "staking", "a", "b"}
	seen := map[Address]string{}
	for _, n := range names {
		a := Module(n)
		if prev, dup := seen[a]; dup {
			t.Fatalf("Module(%q) == Module(%q)", n, prev)
		}
		seen[a] = n
		// Domain separation: the same bytes as a "public key" give another
		// address, so no key can stand in for a module.
		if FromPublicKey([]byte(n)) == a {
			t.Fatalf("Module(%q) equals FromPublicKey of the same bytes", n)
		}
	}
}

func TestFromBytes(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"nil", nil, false},
		{"19", make([]byte, 19), false},
		{"20", bytes.Repeat([]byte{7}, 20), true},
		{"21", make([]byte, 21), false},
		{"32", make([]byte, 32), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := FromBytes(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("FromBytes(%d bytes) error = %v, want ok=%v", len(tc.in), err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if tc.ok && !bytes.Equal(a.Bytes(), tc.in) {
				t.Errorf("Bytes() = %x, want %x", a.Bytes(), tc.in)
			}
		})
	}
}

func TestBytesIsACopy(t *testing.T) {
	a := Module("fees")
	b := a.Bytes()
	b[0] ^= 0xff
	if a != Module("fees") {
		t.Fatal("modifying Bytes() changed the address")
	}
}

func TestIsZero(t *testing.T) {
	if !(Address{}).IsZero() {
		t.Error("zero address is not IsZero")
	}
	if Module("fees").IsZero() {
		t.Error("module address is IsZero")
	}
}

func TestJSON(t *testing.T) {
	type doc struct {
		To       Address         `json:"to"`
		Optional Address         `json:"optional,omitzero"`
		Balances map[Address]int `json:"balances"`
	}
	a := Module("fees")
	in := doc{To: a, Balances: map[Address]int{a: 5}}
	out, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"to":"` + a.String() + `","balances":{"` + a.String() + `":5}}`
	if string(out) != want {
		t.Fatalf("Marshal = %s, want %s", out, want)
	}
	var back doc
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.To != a || back.Balances[a] != 5 {
		t.Fatalf("Unmarshal = %+v", back)
	}

	for _, bad := range []string{`{"to":""}`, `{"to":"pha1qqqq"}`, `{"to":"` + strings.ToUpper(a.String()[:5]) + a.String()[5:] + `"}`} {
		if err := json.Unmarshal([]byte(bad), &back); !errors.Is(err, ErrInvalid) {
			t.Errorf("Unmarshal(%s) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestMustParse(t *testing.T) {
	a := Module("fees")
	if MustParse(a.String()) != a {
		t.Fatal("MustParse did not round-trip")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse of garbage did not panic")
		}
	}()
	MustParse("garbage")
}

// FuzzParse checks that Parse never panics and that whatever it accepts is
// the canonical text of the address, up to case.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"pha1",
		"pha1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2ez4us",
		"PHA1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ2EZ4US",
		"pha1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqql9jeej", // bech32, not m
		"pha1kf392dygnafv7uvmkhtkrsvjfvdhvengegjg5y",
		"pha1np6mes76gft828g4lzwd0anyhmtu9x8crlfq2f",
		"Pha1np6mes76gft828g4lzwd0anyhmtu9x8crlfq2f",
		"a1lqfn3a",
		"1111111111",
		"pha1\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if got := a.String(); !strings.EqualFold(got, s) {
			t.Fatalf("Parse(%q).String() = %q", s, got)
		}
	})
}
