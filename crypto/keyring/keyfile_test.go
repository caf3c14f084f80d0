package keyring

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/phala-go/phala/crypto/address"
)

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// editJSON applies edit to the file as a generic JSON object, so tests can
// change types, drop fields and add unknown ones.
func editJSON(edit func(m map[string]any)) func(t *testing.T, data []byte) []byte {
	return func(t *testing.T, data []byte) []byte {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func editKDF(edit func(kdf map[string]any)) func(t *testing.T, data []byte) []byte {
	return editJSON(func(m map[string]any) { edit(m["kdf"].(map[string]any)) })
}

// flipHex flips the lowest bit of the first byte of a hex field.
func flipHex(m map[string]any, field string) {
	b, _ := hex.DecodeString(m[field].(string))
	b[0] ^= 1
	m[field] = hex.EncodeToString(b)
}

func TestCorruptKeyFiles(t *testing.T) {
	mallory := ed25519.NewKeyFromSeed(DevSeed("mallory")).Public().(ed25519.PublicKey)
	cut := func(n int) func(*testing.T, []byte) []byte {
		return func(_ *testing.T, data []byte) []byte {
			if n < 0 {
				n += len(data)
			}
			return data[:n]
		}
	}
	replace := func(b []byte) func(*testing.T, []byte) []byte {
		return func(*testing.T, []byte) []byte { return b }
	}
	tests := []struct {
		name      string
		mutate    func(t *testing.T, data []byte) []byte
		headerBad bool  // Show already fails
		want      error // what Load reports
	}{
		// Modified after the header: only decryption notices.
		{"flipped ciphertext bit", editJSON(func(m map[string]any) { flipHex(m, "ciphertext") }), false, ErrCorrupt},
		{"flipped nonce bit", editJSON(func(m map[string]any) { flipHex(m, "nonce") }), false, ErrCorrupt},
		{"flipped key_check bit", editJSON(func(m map[string]any) { flipHex(m, "key_check") }), false, ErrCorrupt},
		{"swapped public key and address", editJSON(func(m map[string]any) {
			m["public_key"] = hex.EncodeToString(mallory)
			m["address"] = address.FromPublicKey(mallory).String()
		}), false, ErrCorrupt},
		// A changed KDF input changes the derived key; that is
		// indistinguishable from a wrong passphrase.
		{"changed kdf time", editKDF(func(k map[string]any) { k["time"] = 2 }), false, ErrWrongPassphrase},
		{"flipped salt bit", editKDF(func(k map[string]any) { flipHex(k, "salt") }), false, ErrWrongPassphrase},

		// Header problems: found without a passphrase.
		{"swapped public key only", editJSON(func(m map[string]any) { m["public_key"] = hex.EncodeToString(mallory) }), true, ErrCorrupt},
		{"swapped address only", editJSON(func(m map[string]any) { m["address"] = address.FromPublicKey(mallory).String() }), true, ErrCorrupt},
		{"address not bech32m", editJSON(func(m map[string]any) { m["address"] = "0x1234" }), true, ErrCorrupt},
		{"empty file", replace(nil), true, ErrCorrupt},
		{"one byte", cut(1), true, ErrCorrupt},
		{"truncated half", func(_ *testing.T, d []byte) []byte { return d[:len(d)/2] }, true, ErrCorrupt},
		{"truncated closing brace", cut(-2), true, ErrCorrupt},
		{"not JSON", replace([]byte("hello")), true, ErrCorrupt},
		{"JSON array", replace([]byte("[]")), true, ErrCorrupt},
		{"JSON null", replace([]byte("null")), true, ErrCorrupt},
		{"trailing data", func(_ *testing.T, d []byte) []byte { return append(d, "{}"...) }, true, ErrCorrupt},
		{"oversized", func(_ *testing.T, d []byte) []byte { return append(d, bytes.Repeat([]byte(" "), maxFileSize)...) }, true, ErrCorrupt},
		{"unknown field", editJSON(func(m map[string]any) { m["extra"] = 1 }), true, ErrCorrupt},
		{"missing field", editJSON(func(m map[string]any) { delete(m, "nonce") }), true, ErrCorrupt},
		{"version 2", editJSON(func(m map[string]any) { m["version"] = 2 }), true, ErrCorrupt},
		{"version as string", editJSON(func(m map[string]any) { m["version"] = "1" }), true, ErrCorrupt},
		{"other cipher", editJSON(func(m map[string]any) { m["cipher"] = "aes-256-gcm" }), true, ErrCorrupt},
		{"other kdf", editKDF(func(k map[string]any) { k["alg"] = "scrypt" }), true, ErrCorrupt},
		{"kdf time 0", editKDF(func(k map[string]any) { k["time"] = 0 }), true, ErrCorrupt},
		{"kdf time huge", editKDF(func(k map[string]any) { k["time"] = 1 << 31 }), true, ErrCorrupt},
		{"kdf threads 0", editKDF(func(k map[string]any) { k["threads"] = 0 }), true, ErrCorrupt},
		{"kdf threads 256", editKDF(func(k map[string]any) { k["threads"] = 256 }), true, ErrCorrupt},
		{"kdf memory 4 TiB", editKDF(func(k map[string]any) { k["memory_kib"] = 1<<32 - 1 }), true, ErrCorrupt},
		{"kdf memory below 8 KiB per thread", editKDF(func(k map[string]any) { k["memory_kib"] = 7 }), true, ErrCorrupt},
		{"kdf memory negative", editKDF(func(k map[string]any) { k["memory_kib"] = -1 }), true, ErrCorrupt},
		{"short salt", editKDF(func(k map[string]any) { k["salt"] = "00" }), true, ErrCorrupt},
		{"nonce not hex", editJSON(func(m map[string]any) { m["nonce"] = strings.Repeat("zz", nonceSize) }), true, ErrCorrupt},
		{"short ciphertext", editJSON(func(m map[string]any) { m["ciphertext"] = m["ciphertext"].(string)[2:] }), true, ErrCorrupt},
		{"short public key", editJSON(func(m map[string]any) { m["public_key"] = m["public_key"].(string)[2:] }), true, ErrCorrupt},
		{"path in name field", editJSON(func(m map[string]any) { m["name"] = "../../etc/passwd" }), true, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, dir := newKeyring(t)
			mustAdd(t, k, "alice", "pw")
			path := filepath.Join(dir, "alice.key")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.mutate(t, data), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err = k.Show("alice")
			if tc.headerBad != (err != nil) {
				t.Fatalf("Show error %v, want failure=%v", err, tc.headerBad)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Show error %v, want ErrCorrupt", err)
			}

			_, err = k.Load("alice", "pw")
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load error %v, want %v", err, tc.want)
			}
			if tc.want == ErrCorrupt {
				if prefix := "key file " + path + " is corrupt: "; !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("error %q does not start with %q", err, prefix)
				}
				if errors.Is(err, ErrWrongPassphrase) {
					t.Fatalf("corruption also reported as a wrong passphrase: %v", err)
				}
			}
		})
	}
}

// A real file has exactly the documented layout.
func TestFileFormat(t *testing.T) {
	k, dir := newKeyring(t)
	info, err := k.ImportSeed("alice", DevSeed("alice"), "pw")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "alice.key"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	kdf := m["kdf"].(map[string]any)
	hexLen := func(v any) int {
		b, err := hex.DecodeString(v.(string))
		if err != nil {
			t.Fatalf("%v is not hex", v)
		}
		return len(b)
	}
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"version", m["version"], 1.0},
		{"name", m["name"], "alice"},
		{"address", m["address"], info.Address.String()},
		{"public_key", m["public_key"], hex.EncodeToString(info.PublicKey)},
		{"cipher", m["cipher"], "xchacha20poly1305"},
		{"nonce bytes", hexLen(m["nonce"]), 24},
		{"ciphertext bytes", hexLen(m["ciphertext"]), 48},
		{"key_check bytes", hexLen(m["key_check"]), 16},
		{"kdf.alg", kdf["alg"], "argon2id"},
		{"kdf.time", kdf["time"], 1.0},
		{"kdf.memory_kib", kdf["memory_kib"], 64.0},
		{"kdf.threads", kdf["threads"], 1.0},
		{"kdf.salt bytes", hexLen(kdf["salt"]), 16},
		{"field count", len(m), 9},
		{"kdf field count", len(kdf), 5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if bytes.Contains(data, []byte(hex.EncodeToString(DevSeed("alice")))) {
		t.Error("file contains the seed in clear")
	}
}

// Two files of one key and passphrase differ: fresh salt and nonce.
func TestFreshSaltAndNonce(t *testing.T) {
	k, _ := newKeyring(t)
	mustAdd(t, k, "x", "")
	a, err := k.Export("x", "", "e")
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Export("x", "", "e")
	if err != nil {
		t.Fatal(err)
	}
	sa, errA := decodeKeyFile(a)
	sb, errB := decodeKeyFile(b)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if bytes.Equal(sa.salt, sb.salt) || bytes.Equal(sa.nonce, sb.nonce) || bytes.Equal(sa.ciphertext, sb.ciphertext) {
		t.Fatal("two exports share salt, nonce or ciphertext")
	}
}

// fixedFile is a valid key file built from fixed randomness, as fuzz seed.
func fixedFile(tb testing.TB, pass string) []byte {
	tb.Helper()
	rng := bytes.NewReader(bytes.Repeat([]byte{0x42}, saltSize+nonceSize))
	s, err := seal(rng, "fuzz", DevSeed("fuzz"), pass, fastKDF)
	if err != nil {
		tb.Fatal(err)
	}
	return s.encode()
}

// FuzzDecodeKeyFile checks that the parser never panics, that whatever it
// accepts survives an encode/decode round trip unchanged, and that opening
// an accepted file does not panic either.
func FuzzDecodeKeyFile(f *testing.F) {
	valid := fixedFile(f, "pw")
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("{}"))
	f.Add([]byte("null"))
	f.Add([]byte(`{"version":1,"kdf":{"alg":"argon2id","time":0,"threads":0}}`))
	f.Add(bytes.Replace(valid, []byte(`"threads": 1`), []byte(`"threads": 0`), 1))
	f.Add(bytes.Replace(valid, []byte(`"memory_kib": 64`), []byte(`"memory_kib": 4294967295`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeKeyFile(data)
		if err != nil {
			if s != nil || errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("bad failure: %v, %v", s, err)
			}
			return
		}
		again, err := decodeKeyFile(s.encode())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip changed the file: %+v, %+v", s, again)
		}
		// Opening runs Argon2 with the file's parameters; keep it cheap.
		if uint64(s.kdf.time)*uint64(s.kdf.memoryKiB) > 256 {
			return
		}
		seed, err := s.open("pw")
		if err == nil && !bytes.Equal(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), s.publicKey) {
			t.Fatal("opened a seed that does not match the public key")
		}
	})
}
