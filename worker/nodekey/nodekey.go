// Package nodekey holds a TEE node's own keys: an ed25519 identity key that
// signs its messages to the chain and an HPKE (MLKEM768X25519) key pair that
// other enclaves seal keys to. They are generated inside the enclave on first
// start, sealed with the TEE platform, and unsealed on every later start; a
// sealed file from another enclave, another chain or a tampered one is
// refused.
package nodekey

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/tee"
)

// sealLabel separates this use of the platform's sealing key from others.
const sealLabel = "phala/nodekey/v1"

// Keys are a node's secret keys.
type Keys struct {
	ChainID    string
	Identity   ed25519.PrivateKey
	Encryption hpke.PrivateKey
}

// sealed is the plaintext of the sealed file: the seeds both keys derive
// from, bound to one chain.
type sealed struct {
	_              struct{} `cbor:",toarray"`
	Version        uint8
	ChainID        string
	IdentitySeed   []byte
	EncryptionSeed []byte
}

// KEM is the suite of node encryption keys.
func KEM() hpke.KEM { return hpke.MLKEM768X25519() }

func fromSeeds(chainID string, idSeed, encSeed []byte) (*Keys, error) {
	if len(idSeed) != ed25519.SeedSize || len(encSeed) != 32 {
		return nil, errors.New("node keys: bad seed length")
	}
	enc, err := KEM().DeriveKeyPair(encSeed)
	if err != nil {
		return nil, fmt.Errorf("node keys: derive encryption key: %w", err)
	}
	return &Keys{ChainID: chainID, Identity: ed25519.NewKeyFromSeed(idSeed), Encryption: enc}, nil
}

// LoadOrCreate unseals the keys at path, or generates and seals new ones if
// the file does not exist. created reports which happened.
func LoadOrCreate(p tee.Platform, path, chainID string) (k *Keys, created bool, err error) {
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = create(p, path, chainID)
		return k, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("node keys %s: %w", path, err)
	}
	k, err = open(p, blob, chainID)
	if err != nil {
		return nil, false, fmt.Errorf("node keys %s: %w", path, err)
	}
	return k, false, nil
}

func create(p tee.Platform, path, chainID string) (*Keys, error) {
	s := sealed{Version: 1, ChainID: chainID, IdentitySeed: make([]byte, 32), EncryptionSeed: make([]byte, 32)}
	rand.Read(s.IdentitySeed)
	rand.Read(s.EncryptionSeed)
	blob, err := p.Seal(sealLabel, codec.MustMarshal(s))
	if err != nil {
		return nil, fmt.Errorf("seal node keys: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, blob, 0o600); err != nil {
		return nil, fmt.Errorf("write node keys: %w", err)
	}
	return fromSeeds(chainID, s.IdentitySeed, s.EncryptionSeed)
}

func open(p tee.Platform, blob []byte, chainID string) (*Keys, error) {
	plain, err := p.Unseal(sealLabel, blob)
	if err != nil {
		return nil, fmt.Errorf("sealed by another enclave or tampered: %w", err)
	}
	var s sealed
	if err := codec.Unmarshal(plain, &s); err != nil || s.Version != 1 {
		return nil, fmt.Errorf("unsealed keys are malformed (version %d): %v", s.Version, err)
	}
	if s.ChainID != chainID {
		return nil, fmt.Errorf("keys belong to chain %q, not %q", s.ChainID, chainID)
	}
	return fromSeeds(chainID, s.IdentitySeed, s.EncryptionSeed)
}

// IdentityPublic is the node's public identity key.
func (k *Keys) IdentityPublic() ed25519.PublicKey { return k.Identity.Public().(ed25519.PublicKey) }

// EncryptionPublic is the node's public encryption key.
func (k *Keys) EncryptionPublic() []byte { return k.Encryption.PublicKey().Bytes() }

// Quote asks the platform for a quote whose report data binds these keys,
// the operator and a recent block.
func (k *Keys) Quote(p tee.Platform, anchorHash []byte, operator address.Address) ([]byte, error) {
	rd := identity.Binding{ChainID: k.ChainID, AnchorHash: anchorHash, IdentityKey: k.IdentityPublic(), EncryptionKey: k.EncryptionPublic(), Operator: operator}.ReportData()
	return p.Quote(rd)
}

// Evidence attests these keys on platform p for operator, anchored at the
// block (anchorHeight, anchorHash): the body of a registration, to submit
// now or from another machine within the anchor's lifetime.
func (k *Keys) Evidence(p tee.Platform, operator address.Address, role registryapi.Role, anchorHeight int64, anchorHash []byte, coll attest.Collateral) (registryapi.Register, error) {
	quote, err := k.Quote(p, anchorHash, operator)
	if err != nil {
		return registryapi.Register{}, fmt.Errorf("quote: %w", err)
	}
	return registryapi.Register{Role: role, IdentityKey: k.IdentityPublic(), EncryptionKey: k.EncryptionPublic(), AnchorHeight: anchorHeight, Quote: quote, Collateral: coll}, nil
}
