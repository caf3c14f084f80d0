package cometrpc

import (
	"bytes"
	"fmt"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/phala-go/phala/cmtwire"
)

// Ed25519KeyType is the JSON type of an ed25519 validator key; keyTypeProto
// is its name in protobuf. Other key types are refused: phala's light
// client follows ed25519 validators only.
const (
	Ed25519KeyType = "tendermint/PubKeyEd25519"
	keyTypeProto   = "ed25519"
)

// ValidatorSet is a validator set in CometBFT's canonical order (power
// descending, then address), as a header's validators hash commits to it.
type ValidatorSet struct {
	validators []cmtwire.Validator
}

// NewValidatorSet checks vals (ed25519 keys, addresses derived from them,
// positive powers within CometBFT's cap, no address twice) and orders them.
// Errors number the members in the order the node listed them.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, fmt.Errorf("empty validator set")
	}
	members := make([]cmtwire.Validator, len(vals))
	var total int64
	seen := make(map[string]bool, len(vals))
	for i, v := range vals {
		member, err := checkValidator(v, total)
		if err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		if seen[string(member.Address)] {
			return nil, fmt.Errorf("validator %d: address %s listed twice", i, v.Address)
		}
		seen[string(member.Address)] = true
		total += member.Power
		members[i] = member
	}
	cmtwire.SortByPower(members)
	return &ValidatorSet{validators: members}, nil
}

// checkValidator is v as a set member, if its key is ed25519, its address
// the key's and its power within CometBFT's bounds given the total before it.
func checkValidator(v Validator, total int64) (cmtwire.Validator, error) {
	if v.PubKey.Type != Ed25519KeyType || len(v.PubKey.Value) != cmtwire.Ed25519KeySize {
		return cmtwire.Validator{}, fmt.Errorf("key %q of %d bytes, want an ed25519 key", v.PubKey.Type, len(v.PubKey.Value))
	}
	member := cmtwire.NewValidator(v.PubKey.Value, v.VotingPower)
	if !bytes.Equal(v.Address, member.Address) {
		return cmtwire.Validator{}, fmt.Errorf("address %s is not its key's", v.Address)
	}
	if err := cmtwire.CheckPower(v.VotingPower, total); err != nil {
		return cmtwire.Validator{}, err
	}
	return member, nil
}

// Hash is the set's hash as headers carry it: the Merkle root of each
// member's key and power.
func (s *ValidatorSet) Hash() []byte {
	return cmtwire.ValidatorSetHash(s.validators)
}

// Proto is the set as CometBFT's protobuf message, with the proposer
// priorities CometBFT gives a set built afresh from its members: each
// member's power, the first member (the proposer) less the total. The
// node's own priorities are not used: they are not part of the set's
// hash, and a fresh set's make the encoding a function of the set alone.
func (s *ValidatorSet) Proto() *cmtproto.ValidatorSet {
	var total int64
	for _, v := range s.validators {
		total += v.Power
	}
	out := &cmtproto.ValidatorSet{Validators: make([]*cmtproto.Validator, len(s.validators))}
	for i, v := range s.validators {
		out.Validators[i] = &cmtproto.Validator{
			Address: v.Address, PubKeyType: keyTypeProto, PubKeyBytes: v.PubKey,
			VotingPower: v.Power, ProposerPriority: v.Power,
		}
	}
	out.Validators[0].ProposerPriority -= total
	proposer := *out.Validators[0]
	out.Proposer = &proposer
	return out
}
