package keystore

import (
	"bytes"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
)

// Write is one change to the keystore a module asks for. Only this
// package implements it: the ways secrets enter the keystore are the ones
// listed here.
type Write interface {
	apply(k *Keystore) error
}

// GenerateMaster makes a fresh master key generation unless one is held:
// a secret already in the keystore (a replay, a restart) is reused, never
// replaced, so a public key the chain may have recorded stays valid. The
// randomness is drawn here, outside every module's state.
type GenerateMaster struct{ Generation uint32 }

func (w GenerateMaster) apply(k *Keystore) error {
	if _, ok := k.Master(w.Generation); ok {
		return nil
	}
	m := derive.GenerateMaster()
	putMaster(k, w.Generation, m[:])
	k.log.Info("generated a master key generation", "generation", w.Generation)
	return nil
}

// PutMasters stores handed master key generations, replacing held ones
// (a generation this enclave made but the chain did not record).
type PutMasters struct{ Keys []keysapi.GenerationKey }

func (w PutMasters) apply(k *Keystore) error {
	for _, gk := range w.Keys {
		putMaster(k, gk.Generation, gk.Secret)
	}
	return nil
}

func putMaster(k *Keystore, g uint32, secret []byte) {
	e := keysapi.GenerationKey{Generation: g, Secret: bytes.Clone(secret)}
	if i, ok := masterIndex(k.f.Masters, g); ok {
		k.f.Masters[i] = e
	} else {
		k.f.Masters = slices.Insert(k.f.Masters, i, e)
	}
}

// PutCluster stores a handed cluster key generation.
type PutCluster struct{ Secret keysapi.ClusterSecret }

func (w PutCluster) apply(k *Keystore) error {
	cs := w.Secret
	e := keysapi.ClusterSecret{Cluster: cs.Cluster, Generation: cs.Generation, Secret: bytes.Clone(cs.Secret)}
	if i, ok := clusterIndex(k.f.Clusters, cs.Cluster, cs.Generation); ok {
		k.f.Clusters[i] = e
	} else {
		k.f.Clusters = slices.Insert(k.f.Clusters, i, e)
	}
	return nil
}

// Seal seals Plain to a node for Purpose (bound to its identity key) and
// keeps the envelope under ID, unless one is kept already: HPKE is
// randomised, and a replay must send the bytes it sent before.
type Seal struct {
	ID            []byte
	Purpose       envelope.Purpose
	IdentityKey   []byte
	EncryptionKey []byte
	Plain         []byte
}

func (w Seal) apply(k *Keystore) error {
	if _, ok := k.Sealed(w.ID); ok {
		return nil
	}
	env, err := envelope.SealTo(k.f.ChainID, w.Purpose, envelope.Default, w.EncryptionKey, w.Plain, w.IdentityKey)
	if err != nil {
		return ErrKeystore.Wrapf("seal a handout: %v", err)
	}
	k.f.Sealed = append(k.f.Sealed, sealedCopy{ID: bytes.Clone(w.ID), Envelope: env})
	if n := len(k.f.Sealed) - MaxSealedCopies; n > 0 {
		k.f.Sealed = slices.Delete(k.f.Sealed, 0, n)
	}
	return nil
}
