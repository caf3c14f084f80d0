package runtime

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/tee"
)

// KeystoreFile is the sealed keystore inside the runtime's home.
const KeystoreFile = "keystore.sealed"

// keystoreLabel separates the keystore from other sealed data.
const keystoreLabel = "phala/worker/keystore/v1"

// keystoreFile is the plaintext of the keystore: the secrets this enclave
// holds, bound to its chain and identity. It exists only sealed on disk
// and in memory; the checkpointed State keeps the public facts.
type keystoreFile struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	ChainID  string
	Identity ed25519.PublicKey
	// Masters are master key generations (gatekeepers), by generation.
	Masters []keysapi.GenerationKey
	// Clusters are cluster keys (workers), by cluster then generation.
	Clusters []keysapi.ClusterSecret
	// Sealed are the envelopes of recent handouts, oldest first: HPKE is
	// randomised, and a replay must send the bytes sent before.
	Sealed []sealedCopy
}

// sealedCopy is one handout's envelope, named by a hash of what was sealed
// to whom.
type sealedCopy struct {
	_        struct{} `cbor:",toarray"`
	ID       []byte
	Envelope []byte
}

// maxSealedCopies bounds the envelope copies kept: a replay from further
// back seals again, which only changes the bytes of a message the chain
// already has.
const maxSealedCopies = 1024

// keystore holds the enclave's secrets and writes them, sealed, before any
// egress that depends on them leaves: a crash then never publishes a
// public key whose secret is lost. A replay finds the secrets here instead
// of generating new ones.
type keystore struct {
	path     string
	platform tee.Platform
	file     keystoreFile
}

// openKeystore unseals the keystore at path, or starts an empty one if the
// file does not exist. A file that does not unseal is an error: starting
// empty would generate keys the chain already has other publics for.
func openKeystore(p tee.Platform, path, chainID string, identity ed25519.PublicKey) (*keystore, error) {
	ks := &keystore{path: path, platform: p, file: keystoreFile{Version: 1, ChainID: chainID, Identity: identity}}
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ks, nil
	}
	if err != nil {
		return nil, ErrKeystore.Wrapf("read: %v", err)
	}
	plain, err := p.Unseal(keystoreLabel, blob)
	if err != nil {
		return nil, ErrKeystore.Wrapf("sealed by another enclave or tampered")
	}
	var f keystoreFile
	if err := codec.Unmarshal(plain, &f); err != nil || f.Version != 1 {
		return nil, ErrKeystore.Wrapf("malformed keystore (version %d)", f.Version)
	}
	if f.ChainID != chainID || !bytes.Equal(f.Identity, identity) {
		return nil, ErrKeystore.Wrapf("keystore of another chain or identity (chain %q)", f.ChainID)
	}
	ks.file = f
	return ks, nil
}

// save seals the whole keystore: temporary file, fsync, rename.
func (k *keystore) save() error {
	blob, err := k.platform.Seal(keystoreLabel, codec.MustMarshal(k.file))
	if err != nil {
		return ErrKeystore.Wrapf("seal: %v", err)
	}
	if err := writeFileAtomic(k.path, blob); err != nil {
		return ErrKeystore.Wrapf("write: %v", err)
	}
	return nil
}

// master returns generation g's secret if held.
func (k *keystore) master(g uint32) (derive.MasterKey, bool) {
	i, ok := slices.BinarySearchFunc(k.file.Masters, g, func(x keysapi.GenerationKey, g uint32) int { return cmp.Compare(x.Generation, g) })
	if !ok || len(k.file.Masters[i].Secret) != derive.KeySize {
		return derive.MasterKey{}, false
	}
	return derive.MasterKey(k.file.Masters[i].Secret), true
}

// putMasters stores generations (replacing held ones) and saves; on a
// failed save the keystore in memory is as before.
func (k *keystore) putMasters(gens []keysapi.GenerationKey) error {
	old := slices.Clone(k.file.Masters)
	for _, gk := range gens {
		e := keysapi.GenerationKey{Generation: gk.Generation, Secret: bytes.Clone(gk.Secret)}
		i, ok := slices.BinarySearchFunc(k.file.Masters, gk.Generation, func(x keysapi.GenerationKey, g uint32) int { return cmp.Compare(x.Generation, g) })
		if ok {
			k.file.Masters[i] = e
		} else {
			k.file.Masters = slices.Insert(k.file.Masters, i, e)
		}
	}
	if err := k.save(); err != nil {
		k.file.Masters = old
		return err
	}
	return nil
}

// sealOnce returns the envelope sealed before under id, or seals one with
// seal and saves it before returning, so a replay regenerates the same
// egress bytes.
func (k *keystore) sealOnce(id []byte, seal func() ([]byte, error)) ([]byte, error) {
	for i := len(k.file.Sealed) - 1; i >= 0; i-- {
		if bytes.Equal(k.file.Sealed[i].ID, id) {
			return k.file.Sealed[i].Envelope, nil
		}
	}
	env, err := seal()
	if err != nil {
		return nil, err
	}
	old := k.file.Sealed
	k.file.Sealed = append(slices.Clone(old), sealedCopy{ID: id, Envelope: env})
	if n := len(k.file.Sealed) - maxSealedCopies; n > 0 {
		k.file.Sealed = k.file.Sealed[n:]
	}
	if err := k.save(); err != nil {
		k.file.Sealed = old
		return nil, err
	}
	return env, nil
}

func compareCluster(x keysapi.ClusterSecret, cluster string, g uint32) int {
	return cmp.Or(cmp.Compare(x.Cluster, cluster), cmp.Compare(x.Generation, g))
}

// cluster returns a cluster key generation if held.
func (k *keystore) cluster(cluster string, g uint32) (derive.ClusterKey, bool) {
	i, ok := slices.BinarySearchFunc(k.file.Clusters, keysapi.ClusterSecret{Cluster: cluster, Generation: g}, func(x, t keysapi.ClusterSecret) int { return compareCluster(x, t.Cluster, t.Generation) })
	if !ok || len(k.file.Clusters[i].Secret) != derive.KeySize {
		return derive.ClusterKey{}, false
	}
	return derive.ClusterKey(k.file.Clusters[i].Secret), true
}

// putCluster stores a cluster key generation and saves; on a failed save
// the keystore in memory is as before.
func (k *keystore) putCluster(cs keysapi.ClusterSecret) error {
	old := slices.Clone(k.file.Clusters)
	e := keysapi.ClusterSecret{Cluster: cs.Cluster, Generation: cs.Generation, Secret: bytes.Clone(cs.Secret)}
	i, ok := slices.BinarySearchFunc(k.file.Clusters, e, func(x, t keysapi.ClusterSecret) int { return compareCluster(x, t.Cluster, t.Generation) })
	if ok {
		k.file.Clusters[i] = e
	} else {
		k.file.Clusters = slices.Insert(k.file.Clusters, i, e)
	}
	if err := k.save(); err != nil {
		k.file.Clusters = old
		return err
	}
	return nil
}
