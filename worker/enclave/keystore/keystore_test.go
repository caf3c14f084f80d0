package keystore

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/nodekey"
)

const chain = "keystore-test"

func newSim(t *testing.T, dir string, m byte) tee.Platform {
	t.Helper()
	p, err := sim.New(sim.WithDir(dir), sim.WithMeasurement([32]byte{m}), sim.WithWarnings(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func identity(seed byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey)
}

func TestKeystoreSealedAndBound(t *testing.T) {
	dir, simDir := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, File)
	self := identity(1)
	ks, err := Open(newSim(t, simDir, 1), path, chain, self, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := bytes.Repeat([]byte{0xab}, 32)
	err = ks.Apply([]Write{
		PutMasters{Keys: []keysapi.GenerationKey{{Generation: 2, Secret: secret}, {Generation: 1, Secret: secret}}},
		PutCluster{Secret: keysapi.ClusterSecret{Cluster: "c", Generation: 1, Secret: secret}},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, secret) {
		t.Fatal("the keystore file holds a secret in the clear")
	}
	tests := []struct {
		name    string
		enclave byte
		chain   string
		id      ed25519.PublicKey
		mutate  func([]byte) []byte
		ok      bool
	}{
		{"same enclave reopens", 1, chain, self, nil, true},
		{"another enclave", 2, chain, self, nil, false},
		{"another chain", 1, "other", self, nil, false},
		{"another identity", 1, chain, identity(9), nil, false},
		{"tampered", 1, chain, self, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), File)
			b := bytes.Clone(raw)
			if tc.mutate != nil {
				b = tc.mutate(b)
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Open(newSim(t, simDir, tc.enclave), p, tc.chain, tc.id, nil)
			if !tc.ok {
				if !errors.Is(err, ErrKeystore) {
					t.Fatalf("want ErrKeystore, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m1, ok1 := got.Master(1)
			_, ok3 := got.Master(3)
			c, okc := got.Cluster("c", 1)
			if !ok1 || ok3 || !okc || !bytes.Equal(m1[:], secret) || !bytes.Equal(c[:], secret) {
				t.Fatal("keystore contents differ after reopening")
			}
		})
	}
}

// TestWrites: each write does what it says, once; a failed batch leaves
// the keystore as it was.
func TestWrites(t *testing.T) {
	enc, err := nodekey.KEM().DeriveKeyPair(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	seal := Seal{ID: []byte("id"), Purpose: envelope.MasterKeyHandout, IdentityKey: identity(2), EncryptionKey: enc.PublicKey().Bytes(), Plain: []byte("plain")}
	tests := []struct {
		name  string
		write func(ks *Keystore) error
		check func(t *testing.T, ks *Keystore)
	}{
		{"generate keeps a held generation", func(ks *Keystore) error {
			if err := ks.Apply([]Write{GenerateMaster{Generation: 1}}); err != nil {
				return err
			}
			first, _ := ks.Master(1)
			if err := ks.Apply([]Write{GenerateMaster{Generation: 1}}); err != nil {
				return err
			}
			if again, _ := ks.Master(1); again != first {
				t.Fatal("a second GenerateMaster replaced the secret")
			}
			return nil
		}, func(t *testing.T, ks *Keystore) {
			if _, ok := ks.Master(1); !ok {
				t.Fatal("no generation 1")
			}
		}},
		{"seal keeps the first envelope", func(ks *Keystore) error {
			if err := ks.Apply([]Write{seal}); err != nil {
				return err
			}
			first, _ := ks.Sealed(seal.ID)
			if err := ks.Apply([]Write{seal}); err != nil {
				return err
			}
			if again, _ := ks.Sealed(seal.ID); !bytes.Equal(again, first) {
				t.Fatal("a second Seal replaced the envelope")
			}
			return nil
		}, func(t *testing.T, ks *Keystore) {
			env, ok := ks.Sealed(seal.ID)
			if !ok {
				t.Fatal("no envelope")
			}
			if plain, err := envelope.Open(chain, seal.Purpose, enc, env, seal.IdentityKey); err != nil || string(plain) != "plain" {
				t.Fatalf("the envelope does not open (%v)", err)
			}
		}},
		{"a failing write changes nothing", func(ks *Keystore) error {
			bad := seal
			bad.EncryptionKey = []byte{1}
			err := ks.Apply([]Write{PutMasters{Keys: []keysapi.GenerationKey{{Generation: 4, Secret: bytes.Repeat([]byte{1}, 32)}}}, bad})
			if !errors.Is(err, ErrKeystore) {
				t.Fatalf("want ErrKeystore, got %v", err)
			}
			return nil
		}, func(t *testing.T, ks *Keystore) {
			if _, ok := ks.Master(4); ok {
				t.Fatal("a write of a failed batch stayed")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			simDir := t.TempDir()
			path := filepath.Join(t.TempDir(), File)
			ks, err := Open(newSim(t, simDir, 1), path, chain, identity(1), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.write(ks); err != nil {
				t.Fatal(err)
			}
			tc.check(t, ks)
			reopened, err := Open(newSim(t, simDir, 1), path, chain, identity(1), nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, reopened)
		})
	}
}
