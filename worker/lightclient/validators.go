package lightclient

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// The validator keys the light client understands. CometBFT also knows
// secp256k1 and BLS keys; a chain that uses them cannot be followed by this
// client, which refuses such a set instead of guessing.
const (
	ed25519KeyType = "ed25519"                  // in protobuf (crypto.PubKey.Type)
	ed25519KeyName = "tendermint/PubKeyEd25519" // in genesis JSON
	ed25519KeySize = ed25519.PublicKeySize
	addressSize    = 20 // CometBFT's crypto.AddressSize
)

// maxValidators bounds a decoded validator set; CometBFT chains run with
// a few hundred at most.
const maxValidators = 10_000

// maxTotalVotingPower is CometBFT's cap on a set's total power
// (types.MaxTotalVotingPower): an eighth of int64, so that 2/3 of it and
// sums of it never overflow.
const maxTotalVotingPower = int64(math.MaxInt64) / 8

// validator is one member of a set: an ed25519 key and its power.
type validator struct {
	address []byte // first 20 bytes of SHA-256 of the key, as CometBFT derives it
	pubKey  ed25519.PublicKey
	power   int64
}

// validatorSet is a set in CometBFT's order, which is the order commit
// signatures follow and the order its hash is taken in.
type validatorSet struct {
	validators []validator
	total      int64
}

// addressOf is CometBFT's address of an ed25519 key.
func addressOf(pub []byte) []byte {
	sum := sha256.Sum256(pub)
	return sum[:addressSize]
}

func newValidator(pub []byte, power int64) validator {
	return validator{address: addressOf(pub), pubKey: ed25519.PublicKey(bytes.Clone(pub)), power: power}
}

// checkPower refuses a power CometBFT would refuse (or panic on).
func checkPower(power, total int64) error {
	if power <= 0 {
		return fmt.Errorf("voting power %d is not positive", power)
	}
	if power > maxTotalVotingPower-total {
		return fmt.Errorf("total voting power exceeds %d", maxTotalVotingPower)
	}
	return nil
}

// newValidatorSet checks vals the way CometBFT's NewValidatorSet and
// ValidateBasic would and keeps them in the order given.
func newValidatorSet(vals []validator) (*validatorSet, error) {
	if len(vals) == 0 || len(vals) > maxValidators {
		return nil, fmt.Errorf("validator set has %d validators (need 1 to %d)", len(vals), maxValidators)
	}
	set := &validatorSet{validators: vals}
	seen := make(map[string]bool, len(vals))
	for i, v := range vals {
		if err := checkPower(v.power, set.total); err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		set.total += v.power
		// CometBFT never builds a set with one address twice; refusing it
		// keeps one key from being counted twice in a commit.
		if seen[string(v.address)] {
			return nil, fmt.Errorf("validator %d (%s) listed twice", i, short(v.address))
		}
		seen[string(v.address)] = true
	}
	return set, nil
}

// sortByPower puts a genesis set in the order CometBFT's NewValidatorSet
// gives it: power descending, then address ascending.
func sortByPower(vals []validator) {
	slices.SortStableFunc(vals, func(a, b validator) int {
		if a.power != b.power {
			if a.power > b.power {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.address, b.address)
	})
}

// hash is CometBFT's ValidatorSet.Hash: the Merkle root of each member's
// SimpleValidator encoding, in set order.
func (s *validatorSet) hash() []byte {
	leaves := make([][]byte, len(s.validators))
	for i, v := range s.validators {
		leaves[i] = v.simpleBytes()
	}
	return merkle.HashFromByteSlices(leaves)
}

// simpleBytes is CometBFT's Validator.Bytes: the key and the power, not the
// address (derived) nor the proposer priority (not part of the set).
func (v validator) simpleBytes() []byte {
	sv := cmtproto.SimpleValidator{
		PubKey:      &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.pubKey}},
		VotingPower: v.power,
	}
	b, err := sv.Marshal()
	if err != nil {
		// Marshalling a message of two set fields into a fresh buffer
		// cannot fail; an empty leaf would just not match any header.
		return nil
	}
	return b
}

// encode is the one encoding of a set kept in State: proposer priorities
// zeroed and the first validator named proposer. Neither is part of the
// set's hash, and fixing them makes the checkpoint a function of the chain
// alone, not of how a relay happened to encode the set.
func (s *validatorSet) encode() ([]byte, error) {
	vp := cmtproto.ValidatorSet{Validators: make([]*cmtproto.Validator, len(s.validators))}
	for i, v := range s.validators {
		vp.Validators[i] = &cmtproto.Validator{
			Address: v.address, PubKeyType: ed25519KeyType, PubKeyBytes: v.pubKey, VotingPower: v.power,
		}
	}
	first := *vp.Validators[0]
	vp.Proposer = &first
	return vp.Marshal()
}

// decodeValidators parses an untrusted protobuf ValidatorSet. The proposer
// and priorities are ignored: they are not part of the set's hash.
func decodeValidators(b []byte) (*validatorSet, error) {
	var vp cmtproto.ValidatorSet
	if err := vp.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("validator set does not decode: %v", err)
	}
	if len(vp.Validators) == 0 || len(vp.Validators) > maxValidators {
		return nil, fmt.Errorf("validator set has %d validators (need 1 to %d)", len(vp.Validators), maxValidators)
	}
	vals := make([]validator, len(vp.Validators))
	for i, v := range vp.Validators {
		val, err := decodeValidator(v)
		if err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		vals[i] = val
	}
	return newValidatorSet(vals)
}

func decodeValidator(v *cmtproto.Validator) (validator, error) {
	if v == nil {
		return validator{}, fmt.Errorf("missing")
	}
	pub, err := validatorKey(v)
	if err != nil {
		return validator{}, err
	}
	val := newValidator(pub, v.VotingPower)
	if !bytes.Equal(v.Address, val.address) {
		return validator{}, fmt.Errorf("address %s is not its key's %s", short(v.Address), short(val.address))
	}
	return val, nil
}

// validatorKey reads the key from the type-and-bytes fields CometBFT v1
// writes, or from the older PublicKey field when those are empty.
func validatorKey(v *cmtproto.Validator) ([]byte, error) {
	if v.PubKeyType != "" {
		if v.PubKeyType != ed25519KeyType {
			return nil, fmt.Errorf("key type %q is not supported", v.PubKeyType)
		}
		return ed25519Key(v.PubKeyBytes)
	}
	if v.PubKey == nil {
		return nil, fmt.Errorf("no public key")
	}
	k, ok := v.PubKey.Sum.(*cmtcrypto.PublicKey_Ed25519)
	if !ok {
		return nil, fmt.Errorf("key %T is not supported", v.PubKey.Sum)
	}
	return ed25519Key(k.Ed25519)
}

func ed25519Key(b []byte) ([]byte, error) {
	if len(b) != ed25519KeySize {
		return nil, fmt.Errorf("ed25519 key of %d bytes, want %d", len(b), ed25519KeySize)
	}
	return b, nil
}
