// Package keystore holds the enclave's secrets (master key generations,
// cluster keys, copies of sealed handouts) in one file sealed to the
// enclave, bound to its chain and identity. Modules read it through
// Reader and never write it: they return Writes, and the loop applies
// them, sealed and synced to disk, before it queues any egress that could
// reveal them. A replay finds the secrets here instead of generating new
// ones.
package keystore

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/enclave/fileutil"
)

// File is the sealed keystore inside the enclave's home.
const File = "keystore.sealed"

// label separates the keystore from other sealed data.
const label = "phala/worker/keystore/v1"

// version is the plaintext format this code writes and reads.
const version = 1

// ErrKeystore: the sealed keystore cannot be read or written. It keeps
// the enclave's codespace and code from before the keystore had a package
// of its own, so callers matching it see no change.
var ErrKeystore = errs.Register("runtime", 7, "keystore unavailable")

// MaxSealedCopies bounds the envelope copies kept: a replay from further
// back seals again, which only changes the bytes of a message the chain
// already has.
const MaxSealedCopies = 1024

// file is the plaintext of the keystore.
type file struct {
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

// Reader is what modules may read of the keystore.
type Reader interface {
	// Master returns generation g's secret if held.
	Master(g uint32) (derive.MasterKey, bool)
	// Cluster returns a cluster key generation if held.
	Cluster(cluster string, g uint32) (derive.ClusterKey, bool)
	// Sealed returns the envelope sealed before under id.
	Sealed(id []byte) ([]byte, bool)
}

// Keystore is the unsealed keystore and where it is saved.
type Keystore struct {
	path     string
	platform tee.Platform
	log      *slog.Logger
	f        file
}

var _ Reader = (*Keystore)(nil)

// Open unseals the keystore at path, or starts an empty one if the file
// does not exist. A file that does not unseal is an error: starting empty
// would generate keys the chain already has other publics for.
func Open(p tee.Platform, path, chainID string, identity ed25519.PublicKey, log *slog.Logger) (*Keystore, error) {
	if log == nil {
		log = slog.Default()
	}
	ks := &Keystore{path: path, platform: p, log: log, f: file{Version: version, ChainID: chainID, Identity: identity}}
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ks, nil
	}
	if err != nil {
		return nil, ErrKeystore.Wrapf("read: %v", err)
	}
	plain, err := p.Unseal(label, blob)
	if err != nil {
		return nil, ErrKeystore.Wrapf("sealed by another enclave or tampered")
	}
	var f file
	if err := codec.Unmarshal(plain, &f); err != nil || f.Version != version {
		return nil, ErrKeystore.Wrapf("malformed keystore (version %d)", f.Version)
	}
	if f.ChainID != chainID || !bytes.Equal(f.Identity, identity) {
		return nil, ErrKeystore.Wrapf("keystore of another chain or identity (chain %q)", f.ChainID)
	}
	ks.f = f
	return ks, nil
}

// Apply performs the writes in order and saves once: temporary file,
// fsync, rename. If anything fails the keystore in memory is as before.
func (k *Keystore) Apply(writes []Write) error {
	if len(writes) == 0 {
		return nil
	}
	old := k.f
	k.f = cloneFile(old)
	for _, w := range writes {
		if err := w.apply(k); err != nil {
			k.f = old
			return err
		}
	}
	if err := k.save(); err != nil {
		k.f = old
		return err
	}
	return nil
}

func (k *Keystore) save() error {
	blob, err := k.platform.Seal(label, codec.MustMarshal(k.f))
	if err != nil {
		return ErrKeystore.Wrapf("seal: %v", err)
	}
	if err := fileutil.WriteAtomic(k.path, blob); err != nil {
		return ErrKeystore.Wrapf("write: %v", err)
	}
	return nil
}

func cloneFile(f file) file {
	f.Masters = slices.Clone(f.Masters)
	f.Clusters = slices.Clone(f.Clusters)
	f.Sealed = slices.Clone(f.Sealed)
	return f
}

func masterIndex(list []keysapi.GenerationKey, g uint32) (int, bool) {
	return slices.BinarySearchFunc(list, g, func(x keysapi.GenerationKey, g uint32) int { return cmp.Compare(x.Generation, g) })
}

func clusterIndex(list []keysapi.ClusterSecret, cluster string, g uint32) (int, bool) {
	return slices.BinarySearchFunc(list, keysapi.ClusterSecret{Cluster: cluster, Generation: g}, func(x, t keysapi.ClusterSecret) int {
		return cmp.Or(cmp.Compare(x.Cluster, t.Cluster), cmp.Compare(x.Generation, t.Generation))
	})
}

// Master implements Reader.
func (k *Keystore) Master(g uint32) (derive.MasterKey, bool) {
	i, ok := masterIndex(k.f.Masters, g)
	if !ok || len(k.f.Masters[i].Secret) != derive.KeySize {
		return derive.MasterKey{}, false
	}
	return derive.MasterKey(k.f.Masters[i].Secret), true
}

// Cluster implements Reader.
func (k *Keystore) Cluster(cluster string, g uint32) (derive.ClusterKey, bool) {
	i, ok := clusterIndex(k.f.Clusters, cluster, g)
	if !ok || len(k.f.Clusters[i].Secret) != derive.KeySize {
		return derive.ClusterKey{}, false
	}
	return derive.ClusterKey(k.f.Clusters[i].Secret), true
}

// Sealed implements Reader.
func (k *Keystore) Sealed(id []byte) ([]byte, bool) {
	for i := len(k.f.Sealed) - 1; i >= 0; i-- {
		if bytes.Equal(k.f.Sealed[i].ID, id) {
			return k.f.Sealed[i].Envelope, true
		}
	}
	return nil, false
}

// Secrets lists every secret held, for tests that look for leaks.
func (k *Keystore) Secrets() [][]byte {
	var out [][]byte
	for _, m := range k.f.Masters {
		out = append(out, bytes.Clone(m.Secret))
	}
	for _, c := range k.f.Clusters {
		out = append(out, bytes.Clone(c.Secret))
	}
	return out
}
