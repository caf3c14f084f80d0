package cmtwire

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/crypto/tmhash"
)

const (
	// AddressSize is the size of a validator address (crypto.AddressSize).
	AddressSize = tmhash.TruncatedSize
	// Ed25519KeySize is the size of an ed25519 public key, the only key
	// type phala's chains use for validators.
	Ed25519KeySize = 32
)

// MaxTotalVotingPower is CometBFT's cap on a set's total power
// (types.MaxTotalVotingPower): an eighth of int64, so that 2/3 of it and
// sums of it never overflow.
const MaxTotalVotingPower = int64(math.MaxInt64) / 8

// Validator is what CometBFT's set order and set hash read of a member:
// its ed25519 key, the address derived from it, and its voting power.
// Proposer priorities are left out: they are part of neither.
type Validator struct {
	Address []byte
	PubKey  []byte
	Power   int64
}

// NewValidator is the member with ed25519 key pub and the given power. The
// key is copied, so a caller reusing its buffer cannot change the set.
func NewValidator(pub []byte, power int64) Validator {
	return Validator{Address: Ed25519Address(pub), PubKey: bytes.Clone(pub), Power: power}
}

// Ed25519Address is CometBFT's address of an ed25519 key: the first 20
// bytes of its SHA-256. Commit signatures and headers name validators by it.
func Ed25519Address(pub []byte) []byte {
	return tmhash.SumTruncated(pub)
}

// CheckPower refuses a member's power that CometBFT would refuse (or panic
// on) when total is the power of the members before it.
func CheckPower(power, total int64) error {
	if power <= 0 {
		return fmt.Errorf("voting power %d is not positive", power)
	}
	if power > MaxTotalVotingPower-total {
		return fmt.Errorf("total voting power exceeds %d", MaxTotalVotingPower)
	}
	return nil
}

// ComparePower is CometBFT's set order: power descending, then address
// ascending. It is the order commit signatures follow and the order the
// set's hash is taken in, so a set sorted any other way hashes differently.
func ComparePower(a, b Validator) int {
	if a.Power != b.Power {
		if a.Power > b.Power {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.Address, b.Address)
}

// SortByPower puts vals in the order CometBFT's NewValidatorSet gives them.
func SortByPower(vals []Validator) {
	slices.SortStableFunc(vals, ComparePower)
}

// ValidatorSetHash is CometBFT's ValidatorSet.Hash: the Merkle root of each
// member's SimpleValidator encoding, in the order given (sort first when
// the members did not come in CometBFT's order).
func ValidatorSetHash(vals []Validator) []byte {
	leaves := make([][]byte, len(vals))
	for i, v := range vals {
		leaves[i] = v.SimpleBytes()
	}
	return merkle.HashFromByteSlices(leaves)
}

// SimpleBytes is CometBFT's Validator.Bytes, the member's leaf in the set
// hash: the key and the power, not the address (derived from the key) nor
// the proposer priority (not part of the set).
func (v Validator) SimpleBytes() []byte {
	sv := cmtproto.SimpleValidator{
		PubKey:      &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.PubKey}},
		VotingPower: v.Power,
	}
	b, err := sv.Marshal()
	if err != nil {
		// Marshalling a message of two set fields into a fresh buffer
		// cannot fail; an empty leaf would just not match any header.
		return nil
	}
	return b
}
