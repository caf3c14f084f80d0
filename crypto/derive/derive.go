// Package derive is the key hierarchy below the master key, computed with
// HKDF-SHA256 (crypto/hkdf):
//
//	master key --(cluster id)--> cluster key --(contract id)--> contract key
//
// and, from a key of any level, its HPKE key pair (whose public half goes on
// chain) and, from a contract key, one ed25519 signing key per purpose.
//
// Why derivation rather than stored keys: every gatekeeper and every worker
// of a cluster computes the same keys from the one secret it was handed, so
// no per-contract key is ever generated, sent or stored, and the public keys
// the chain shows can be recomputed and checked anywhere.
//
// Why labels: every step has its own label registered in crypto/sigctx and
// bound to the chain id, so keys of different steps, levels, ids or chains
// are unrelated even when derived from the same secret. The derivation is
// part of the protocol: changing a label, an encoding or the KEM changes every
// key, which the pinned vectors in the tests catch.
package derive

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"

	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/errs"
)

// KeySize is the size of every secret key of the hierarchy.
const KeySize = 32

// MaxIDLen bounds cluster and contract ids.
const MaxIDLen = 256

// The secrets of each level have their own types, so a cluster key can never
// be passed where a contract key is meant.
type (
	// MasterKey is generated once in a gatekeeper's enclave and handed over
	// sealed; it never leaves an enclave in the clear.
	MasterKey [KeySize]byte
	// ClusterKey is handed, sealed, to the workers of one cluster.
	ClusterKey [KeySize]byte
	// ContractKey is one contract's secret, derived where needed.
	ContractKey [KeySize]byte
)

// Module is the errs module of derivation errors.
const Module = "derive"

var (
	// ErrBadID: a cluster or contract id is empty or too long.
	ErrBadID = errs.Register(Module, 1, "unusable id for key derivation")
	// ErrDerive: the standard library refused a derivation (not expected
	// with these fixed sizes; reported instead of panicking).
	ErrDerive = errs.Register(Module, 2, "key derivation failed")
)

// KEM is the KEM of derived encryption keys: the default envelope suite's,
// MLKEM768-X25519. It is pinned here, not taken from crypto/envelope,
// because changing it changes every contract's public key.
func KEM() hpke.KEM { return hpke.MLKEM768X25519() }

// Level names, bound into the derivation of each level's own keys.
const (
	levelMaster   = "master"
	levelCluster  = "cluster"
	levelContract = "contract"
)

// GenerateMaster makes a new random master key. Call it inside the enclave.
func GenerateMaster() MasterKey {
	var m MasterKey
	rand.Read(m[:]) // never fails (crypto/rand's contract)
	return m
}

// Cluster derives the key of cluster clusterID on chain chainID.
func (m MasterKey) Cluster(chainID string, clusterID []byte) (ClusterKey, error) {
	if err := checkID("cluster", clusterID); err != nil {
		return ClusterKey{}, err
	}
	k, err := expand(sigctx.DeriveCluster, chainID, m[:], clusterID)
	return ClusterKey(k), err
}

// Contract derives the key of contract contractID in this cluster.
func (c ClusterKey) Contract(chainID string, contractID []byte) (ContractKey, error) {
	if err := checkID("contract", contractID); err != nil {
		return ContractKey{}, err
	}
	k, err := expand(sigctx.DeriveContract, chainID, c[:], contractID)
	return ContractKey(k), err
}

// EncryptionKey derives the master key's HPKE key pair; its public half is
// the master public key recorded on chain.
func (m MasterKey) EncryptionKey(chainID string) (hpke.PrivateKey, error) {
	return encryptionKey(chainID, m[:], levelMaster)
}

// EncryptionKey derives the cluster's HPKE key pair; its public half is the
// cluster public key recorded on chain.
func (c ClusterKey) EncryptionKey(chainID string) (hpke.PrivateKey, error) {
	return encryptionKey(chainID, c[:], levelCluster)
}

// EncryptionKey derives the contract's HPKE key pair, the same on every
// machine; its public half is published at instantiation and users seal
// commands and queries to it.
func (c ContractKey) EncryptionKey(chainID string) (hpke.PrivateKey, error) {
	return encryptionKey(chainID, c[:], levelContract)
}

// SigningKey derives the contract's ed25519 key for signing under context
// purpose; each purpose gets an unrelated key.
func (c ContractKey) SigningKey(chainID string, purpose sigctx.Context) (ed25519.PrivateKey, error) {
	seed, err := expand(sigctx.DeriveSigning, chainID, c[:], []byte(levelContract), []byte(purpose.Name()))
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed[:]), nil
}

// RandomSeed is the seed of the contract's deterministic random stream:
// the same in every worker, unknowable outside the enclaves.
func (c ContractKey) RandomSeed(chainID string) ([KeySize]byte, error) {
	return expand(sigctx.DeriveContractRandom, chainID, c[:])
}

// PurposeSigningKey derives the ed25519 key a contract asks for by a
// purpose of its own choosing; each purpose gets an unrelated key.
func (c ContractKey) PurposeSigningKey(chainID, purpose string) (ed25519.PrivateKey, error) {
	seed, err := expand(sigctx.DeriveContractSigning, chainID, c[:], []byte(purpose))
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed[:]), nil
}

// StateKeys are the keys of a contract's state at rest
// (worker/enclave/statetree): MAC keys the pages' ids and so the state
// root a worker publishes, Encryption seals the pages.
type StateKeys struct {
	MAC        [KeySize]byte
	Encryption [KeySize]byte
}

// StateKeys derives the contract's state keys. A contract keeps using
// those of the key generation it started under, so its state stays
// readable, and its root the same, across master key rotations.
func (c ContractKey) StateKeys(chainID string) (StateKeys, error) {
	mac, err := expand(sigctx.DeriveContractState, chainID, c[:], []byte("mac"))
	if err != nil {
		return StateKeys{}, err
	}
	enc, err := expand(sigctx.DeriveContractState, chainID, c[:], []byte("encryption"))
	if err != nil {
		return StateKeys{}, err
	}
	return StateKeys{MAC: mac, Encryption: enc}, nil
}

func encryptionKey(chainID string, secret []byte, level string) (hpke.PrivateKey, error) {
	ikm, err := expand(sigctx.DeriveEncryption, chainID, secret, []byte(level))
	if err != nil {
		return nil, err
	}
	k, err := KEM().DeriveKeyPair(ikm[:])
	if err != nil {
		return nil, ErrDerive.Wrapf("derive key pair: %v", err)
	}
	return k, nil
}

// expand is HKDF-SHA256 of secret with info = the label bound to the chain,
// then each part prefixed by its 4-byte length, so no two part lists share
// an info. No salt: the secrets are already uniformly random keys.
func expand(label sigctx.Context, chainID string, secret []byte, parts ...[]byte) ([KeySize]byte, error) {
	info := label.Bytes(chainID)
	for _, p := range parts {
		info = binary.BigEndian.AppendUint32(info, uint32(len(p)))
		info = append(info, p...)
	}
	var out [KeySize]byte
	k, err := hkdf.Key(sha256.New, secret, nil, string(info), KeySize)
	if err != nil {
		return out, ErrDerive.Wrapf("%s: %v", label.Name(), err)
	}
	copy(out[:], k)
	return out, nil
}

func checkID(kind string, id []byte) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return ErrBadID.Wrapf("%s id of %d bytes, want 1..%d", kind, len(id), MaxIDLen)
	}
	return nil
}
