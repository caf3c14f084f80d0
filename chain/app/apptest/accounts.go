package apptest

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
)

// Account is a development account, its key derived from its name.
type Account struct {
	Key  ed25519.PrivateKey
	Addr address.Address
}

// Dev is the development account of name; only Alice, Bob and Carol have
// funds at genesis.
func Dev(name string) Account {
	k := ed25519.NewKeyFromSeed(keyring.DevSeed(name))
	return Account{Key: k, Addr: address.FromPublicKey(k.Public().(ed25519.PublicKey))}
}

// The funded dev accounts. Alice is also the chain's unsafe dev admin
// (gov.unsafe_dev_admin): she sends Authority methods without a proposal.
var (
	Alice = Dev("alice")
	Bob   = Dev("bob")
	Carol = Dev("carol")
)

// PublicKey is the account's key as a transaction names its signer.
func (a Account) PublicKey() ed25519.PublicKey { return a.Key.Public().(ed25519.PublicKey) }
