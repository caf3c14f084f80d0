package derive

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/sigctx"
)

const chain = "phala-kat-1"

func katMaster() MasterKey {
	var m MasterKey
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

// keys is every key derived from one master key, for comparisons.
type keys struct {
	cluster  ClusterKey
	contract ContractKey
	pubs     map[string][]byte // level -> HPKE public key
	sign     ed25519.PublicKey
}

func deriveAll(t *testing.T, m MasterKey, chainID string, clusterID, contractID []byte, purpose sigctx.Context) keys {
	t.Helper()
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var ks keys
	var err error
	ks.cluster, err = m.Cluster(chainID, clusterID)
	ok(err)
	ks.contract, err = ks.cluster.Contract(chainID, contractID)
	ok(err)
	ks.pubs = map[string][]byte{}
	for level, f := range map[string]func(string) (hpke.PrivateKey, error){
		levelMaster: m.EncryptionKey, levelCluster: ks.cluster.EncryptionKey, levelContract: ks.contract.EncryptionKey,
	} {
		k, err := f(chainID)
		ok(err)
		ks.pubs[level] = k.PublicKey().Bytes()
	}
	sk, err := ks.contract.SigningKey(chainID, purpose)
	ok(err)
	ks.sign = sk.Public().(ed25519.PublicKey)
	return ks
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestKnownAnswers pins the derivation. The cluster and contract keys were
// checked once against an independent HKDF-SHA256 implementation (Python's
// hmac). If this test fails, every derived key on every chain has changed: do
// not update the vectors unless that is the intent.
func TestKnownAnswers(t *testing.T) {
	ks := deriveAll(t, katMaster(), chain, []byte("default"), []byte{1, 2, 3}, sigctx.Egress)
	tests := []struct{ name, got, want string }{
		{"cluster key", hex.EncodeToString(ks.cluster[:]), "a9ac6466a2d199087083cf95873394451437b046e38fae709e62d009d3ac6e26"},
		{"contract key", hex.EncodeToString(ks.contract[:]), "9952978dc690827da639d5b895bc87d80c2279a898660a6407c75cc6c4424485"},
		{"master public key sha256", hexSum(ks.pubs[levelMaster]), "54b2e2ab10f51b092e39e1dcf334e69f558ced3c43f96ca4102f223cf8209437"},
		{"cluster public key sha256", hexSum(ks.pubs[levelCluster]), "339379fb24a70468715437f7ab01e0ae38e33e87f617c11015743d0349fdffcf"},
		{"contract public key sha256", hexSum(ks.pubs[levelContract]), "2292964391fe47ca343436cc746510c4365535053750d4313ed755488892cbc3"},
		{"contract signing key", hex.EncodeToString(ks.sign), "56ca41418dd8c0fee56e8e649160f9e1443458d8b7f56fe42e00797c00decf85"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %s, pinned %s", tc.name, tc.got, tc.want)
		}
	}
}

// Two derivations (as on two machines) give the same keys, and the same
// HPKE public keys from DeriveKeyPair.
func TestDeterministic(t *testing.T) {
	m := GenerateMaster()
	a := deriveAll(t, m, chain, []byte("c1"), []byte("k1"), sigctx.Egress)
	b := deriveAll(t, m, chain, []byte("c1"), []byte("k1"), sigctx.Egress)
	if a.cluster != b.cluster || a.contract != b.contract || !a.sign.Equal(b.sign) {
		t.Fatal("secret keys differ between derivations")
	}
	for level := range a.pubs {
		if !bytes.Equal(a.pubs[level], b.pubs[level]) {
			t.Fatalf("%s public key differs between derivations", level)
		}
	}
}

// Changing any input changes every key below it, and keys of different
// levels or purposes never coincide.
func TestSeparation(t *testing.T) {
	m := GenerateMaster()
	base := deriveAll(t, m, chain, []byte("c1"), []byte("k1"), sigctx.Egress)
	tests := []struct {
		name                   string
		ks                     keys
		clusterSame, masterPub bool // which keys the change may leave alone
	}{
		{"other master", deriveAll(t, GenerateMaster(), chain, []byte("c1"), []byte("k1"), sigctx.Egress), false, false},
		{"other chain", deriveAll(t, m, "phala-other", []byte("c1"), []byte("k1"), sigctx.Egress), false, false},
		{"other cluster", deriveAll(t, m, chain, []byte("c2"), []byte("k1"), sigctx.Egress), false, true},
		{"other contract", deriveAll(t, m, chain, []byte("c1"), []byte("k2"), sigctx.Egress), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.ks.cluster == base.cluster) != tc.clusterSame {
				t.Error("cluster key separation")
			}
			if tc.ks.contract == base.contract {
				t.Error("same contract key")
			}
			if bytes.Equal(tc.ks.pubs[levelContract], base.pubs[levelContract]) || tc.ks.sign.Equal(base.sign) {
				t.Error("same contract public keys")
			}
			if bytes.Equal(tc.ks.pubs[levelMaster], base.pubs[levelMaster]) != tc.masterPub {
				t.Error("master public key separation")
			}
		})
	}
	t.Run("other signing purpose", func(t *testing.T) {
		other := deriveAll(t, m, chain, []byte("c1"), []byte("k1"), sigctx.RuntimeState)
		if other.sign.Equal(base.sign) {
			t.Error("two purposes share a signing key")
		}
	})
	t.Run("levels", func(t *testing.T) {
		seen := map[string]string{}
		for level, pub := range base.pubs {
			if prev, dup := seen[string(pub)]; dup {
				t.Errorf("levels %s and %s share a public key", prev, level)
			}
			seen[string(pub)] = level
		}
		// Same bytes as secret at two levels must still give distinct keys.
		c := ClusterKey(m)
		k := ContractKey(m)
		cp, _ := c.EncryptionKey(chain)
		kp, _ := k.EncryptionKey(chain)
		if bytes.Equal(cp.PublicKey().Bytes(), kp.PublicKey().Bytes()) {
			t.Error("level is not bound into the encryption key")
		}
	})
}

func TestBadIDsRefused(t *testing.T) {
	m := GenerateMaster()
	long := make([]byte, MaxIDLen+1)
	for _, id := range [][]byte{nil, {}, long} {
		if _, err := m.Cluster(chain, id); !errors.Is(err, ErrBadID) {
			t.Errorf("cluster id of %d bytes: %v", len(id), err)
		}
		if _, err := (ClusterKey{}).Contract(chain, id); !errors.Is(err, ErrBadID) {
			t.Errorf("contract id of %d bytes: %v", len(id), err)
		}
	}
	if _, err := m.Cluster(chain, long[:MaxIDLen]); err != nil {
		t.Errorf("longest id refused: %v", err)
	}
}

// A derived contract key pair works with envelopes: a user seals to the
// public key the chain shows, any worker of the cluster opens with its own
// derivation.
func TestContractKeyOpensEnvelopes(t *testing.T) {
	if KEM().ID() != mustSuiteKEM(t).ID() {
		t.Fatal("derived keys are not of the default envelope suite")
	}
	c, _ := GenerateMaster().Cluster(chain, []byte("c"))
	k, _ := c.Contract(chain, []byte("k"))
	onChain, _ := k.EncryptionKey(chain)
	env, err := envelope.SealTo(chain, envelope.Command, envelope.Default, onChain.PublicKey().Bytes(), []byte("call"), nil)
	if err != nil {
		t.Fatal(err)
	}
	worker, _ := k.EncryptionKey(chain)
	if got, err := envelope.Open(chain, envelope.Command, worker, env, nil); err != nil || string(got) != "call" {
		t.Fatalf("open: %q %v", got, err)
	}
}

func mustSuiteKEM(t *testing.T) hpke.KEM {
	k, err := envelope.Default.KEM()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func BenchmarkContractEncryptionKey(b *testing.B) {
	c, _ := GenerateMaster().Cluster(chain, []byte("c"))
	for b.Loop() {
		k, _ := c.Contract(chain, []byte("k"))
		if _, err := k.EncryptionKey(chain); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStateKeysKnownAnswers pins the state keys of the known-answer
// contract key (checked against Python's hmac-based HKDF), and checks they
// differ from each other and between contracts.
func TestStateKeysKnownAnswers(t *testing.T) {
	ks := deriveAll(t, katMaster(), chain, []byte("default"), []byte{1, 2, 3}, sigctx.Egress)
	sk, err := ks.contract.StateKeys(chain)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(sk.MAC[:]), "59b9b7abd68349547a59dc000acf5c2973d8e8201849a898bff2bf52343a5181"; got != want {
		t.Errorf("state MAC key = %s, pinned %s", got, want)
	}
	if got, want := hex.EncodeToString(sk.Encryption[:]), "e366a0c12519f5c06212e07f7692b5cfd6eed5beef8658db7dd5ad3bdbd0cf5d"; got != want {
		t.Errorf("state encryption key = %s, pinned %s", got, want)
	}
	other := deriveAll(t, katMaster(), chain, []byte("default"), []byte{1, 2, 4}, sigctx.Egress)
	ok, err := other.contract.StateKeys(chain)
	if err != nil || sk.MAC == sk.Encryption || ok.MAC == sk.MAC || ok.Encryption == sk.Encryption {
		t.Fatalf("state keys not separated (%v)", err)
	}
}
