package lightclient

import (
	"bytes"
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/phala-go/phala/cmtwire"
)

// The validator keys the light client understands. CometBFT also knows
// secp256k1 and BLS keys; a chain that uses them cannot be followed by this
// client, which refuses such a set instead of guessing.
const (
	ed25519KeyType = "ed25519"                  // in protobuf (crypto.PubKey.Type)
	ed25519KeyName = "tendermint/PubKeyEd25519" // in genesis JSON
	ed25519KeySize = cmtwire.Ed25519KeySize
	addressSize    = cmtwire.AddressSize
)

// maxValidators bounds a decoded validator set; CometBFT chains run with
// a few hundred at most.
const maxValidators = 10_000

// maxTotalVotingPower is CometBFT's cap on a set's total power; the light
// client's copy is cmtwire's, named here so the test of CometBFT's
// constants covers it with the others.
const maxTotalVotingPower = cmtwire.MaxTotalVotingPower

// validatorSet is a set in CometBFT's order, which is the order commit
// signatures follow and the order its hash is taken in. Each member is an
// ed25519 key, its address and its power.
type validatorSet struct {
	validators []cmtwire.Validator
	total      int64
}

// newValidatorSet checks vals the way CometBFT's NewValidatorSet and
// ValidateBasic would and keeps them in the order given.
func newValidatorSet(vals []cmtwire.Validator) (*validatorSet, error) {
	if len(vals) == 0 || len(vals) > maxValidators {
		return nil, fmt.Errorf("validator set has %d validators (need 1 to %d)", len(vals), maxValidators)
	}
	set := &validatorSet{validators: vals}
	seen := make(map[string]bool, len(vals))
	for i, v := range vals {
		if err := cmtwire.CheckPower(v.Power, set.total); err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		set.total += v.Power
		// CometBFT never builds a set with one address twice; refusing it
		// keeps one key from being counted twice in a commit.
		if seen[string(v.Address)] {
			return nil, fmt.Errorf("validator %d (%s) listed twice", i, short(v.Address))
		}
		seen[string(v.Address)] = true
	}
	return set, nil
}

// hash is CometBFT's ValidatorSet.Hash, which headers carry as their
// validators hashes.
func (s *validatorSet) hash() []byte {
	return cmtwire.ValidatorSetHash(s.validators)
}

// encode is the one encoding of a set kept in State: proposer priorities
// zeroed and the first validator named proposer. Neither is part of the
// set's hash, and fixing them makes the checkpoint a function of the chain
// alone, not of how a relay happened to encode the set.
func (s *validatorSet) encode() ([]byte, error) {
	vp := cmtproto.ValidatorSet{Validators: make([]*cmtproto.Validator, len(s.validators))}
	for i, v := range s.validators {
		vp.Validators[i] = &cmtproto.Validator{
			Address: v.Address, PubKeyType: ed25519KeyType, PubKeyBytes: v.PubKey, VotingPower: v.Power,
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
	vals := make([]cmtwire.Validator, len(vp.Validators))
	for i, v := range vp.Validators {
		val, err := decodeValidator(v)
		if err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		vals[i] = val
	}
	return newValidatorSet(vals)
}

func decodeValidator(v *cmtproto.Validator) (cmtwire.Validator, error) {
	if v == nil {
		return cmtwire.Validator{}, fmt.Errorf("missing")
	}
	pub, err := validatorKey(v)
	if err != nil {
		return cmtwire.Validator{}, err
	}
	val := cmtwire.NewValidator(pub, v.VotingPower)
	if !bytes.Equal(v.Address, val.Address) {
		return cmtwire.Validator{}, fmt.Errorf("address %s is not its key's %s", short(v.Address), short(val.Address))
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
