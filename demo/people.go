package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
)

// person is an account the demo acts as.
type person struct {
	name    string
	key     ed25519.PrivateKey
	address address.Address
}

// hex is the address as contracts take it in JSON arguments (sdk.Address).
func (p person) hex() string { return hex.EncodeToString(p.address.Bytes()) }

// people are the demo's cast: alice deploys and owns, bob receives and
// reads, carol votes, and the stranger is a key nobody granted anything
// (made for this run, with no account: queries need none).
type people struct {
	alice, bob, carol, stranger person
}

func newPeople() (people, error) {
	_, strangerKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return people{}, fmt.Errorf("demo: stranger's key: %w", err)
	}
	return people{alice: devPerson("alice"), bob: devPerson("bob"), carol: devPerson("carol"), stranger: keyPerson("a stranger", strangerKey)}, nil
}

// devPerson is a development account: its key comes from a public seed.
func devPerson(name string) person {
	return keyPerson(name, ed25519.NewKeyFromSeed(keyring.DevSeed(name)))
}

func keyPerson(name string, key ed25519.PrivateKey) person {
	return person{name: name, key: key, address: address.FromPublicKey(key.Public().(ed25519.PublicKey))}
}
