package cometrpc

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/merkle"
)

// Ed25519KeyType is the JSON type of an ed25519 validator key; keyTypeProto
// is its name in protobuf. Other key types are refused: phala's light
// client follows ed25519 validators only.
const (
	Ed25519KeyType = "tendermint/PubKeyEd25519"
	keyTypeProto   = "ed25519"
	ed25519Size    = 32
	addressSize    = 20
)

// maxTotalPower is CometBFT's cap on a set's voting power: an eighth of
// int64, so that sums and 2/3 of it never overflow.
const maxTotalPower = math.MaxInt64 / 8

// ValidatorSet is a validator set in CometBFT's canonical order (power
// descending, then address), as a header's validators hash commits to it.
type ValidatorSet struct {
	validators []Validator
}

// NewValidatorSet checks vals (ed25519 keys, addresses derived from them,
// positive powers within CometBFT's cap, no address twice) and orders them.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, fmt.Errorf("empty validator set")
	}
	sorted := slices.Clone(vals)
	var total int64
	seen := make(map[string]bool, len(vals))
	for i, v := range sorted {
		if err := checkValidator(v, total); err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		if seen[string(v.Address)] {
			return nil, fmt.Errorf("validator %d: address %s listed twice", i, v.Address)
		}
		seen[string(v.Address)] = true
		total += v.VotingPower
	}
	slices.SortStableFunc(sorted, func(a, b Validator) int {
		if a.VotingPower != b.VotingPower {
			if a.VotingPower > b.VotingPower {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Address, b.Address)
	})
	return &ValidatorSet{validators: sorted}, nil
}

func checkValidator(v Validator, total int64) error {
	if v.PubKey.Type != Ed25519KeyType || len(v.PubKey.Value) != ed25519Size {
		return fmt.Errorf("key %q of %d bytes, want an ed25519 key", v.PubKey.Type, len(v.PubKey.Value))
	}
	sum := sha256.Sum256(v.PubKey.Value)
	if !bytes.Equal(v.Address, sum[:addressSize]) {
		return fmt.Errorf("address %s is not its key's", v.Address)
	}
	if v.VotingPower <= 0 || v.VotingPower > maxTotalPower-total {
		return fmt.Errorf("voting power %d out of range", v.VotingPower)
	}
	return nil
}

// Hash is the set's hash as headers carry it: the Merkle root of each
// member's key and power.
func (s *ValidatorSet) Hash() []byte {
	leaves := make([][]byte, len(s.validators))
	for i, v := range s.validators {
		sv := cmtproto.SimpleValidator{
			PubKey:      &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.PubKey.Value}},
			VotingPower: v.VotingPower,
		}
		leaves[i], _ = sv.Marshal() // two set fields into a fresh buffer: cannot fail
	}
	return merkle.HashFromByteSlices(leaves)
}

// Proto is the set as CometBFT's protobuf message, with the proposer
// priorities CometBFT gives a set built afresh from its members: each
// member's power, the first member (the proposer) less the total. The
// node's own priorities are not used: they are not part of the set's
// hash, and a fresh set's make the encoding a function of the set alone.
func (s *ValidatorSet) Proto() *cmtproto.ValidatorSet {
	var total int64
	for _, v := range s.validators {
		total += v.VotingPower
	}
	out := &cmtproto.ValidatorSet{Validators: make([]*cmtproto.Validator, len(s.validators))}
	for i, v := range s.validators {
		out.Validators[i] = &cmtproto.Validator{
			Address: v.Address, PubKeyType: keyTypeProto, PubKeyBytes: v.PubKey.Value,
			VotingPower: v.VotingPower, ProposerPriority: v.VotingPower,
		}
	}
	out.Validators[0].ProposerPriority -= total
	proposer := *out.Validators[0]
	out.Proposer = &proposer
	return out
}
