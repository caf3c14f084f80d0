package cmtwire

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmttypes "github.com/cometbft/cometbft/types"
)

// The constants copied from CometBFT must stay CometBFT's.
func TestConstantsAreCometBFTs(t *testing.T) {
	if HashSize != tmhash.Size || AddressSize != crypto.AddressSize ||
		Ed25519KeySize != cmted25519.PubKeySize || MaxTotalVotingPower != cmttypes.MaxTotalVotingPower {
		t.Fatal("a CometBFT constant changed; update cmtwire's copy")
	}
}

func key(i int) cmted25519.PubKey {
	return cmted25519.GenPrivKeyFromSecret(fmt.Appendf(nil, "cmtwire/%d", i)).PubKey().(cmted25519.PubKey)
}

// Random sets, with many equal powers so the address breaks ties, listed in
// random order: sorted by SortByPower they are in the order of CometBFT's
// NewValidatorSet, and every address, leaf and set hash is CometBFT's.
func TestValidatorSetIsCometBFTs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for round := range 100 {
		n := 1 + rng.IntN(20)
		ours := make([]Validator, n)
		ref := make([]*cmttypes.Validator, n)
		for i := range n {
			pub := key(round*100 + i)
			power := 1 + rng.Int64N(4)*10
			ours[i] = NewValidator(pub, power)
			ref[i] = cmttypes.NewValidator(pub, power)
			if !bytes.Equal(ours[i].Address, pub.Address()) || !bytes.Equal(Ed25519Address(pub), pub.Address()) {
				t.Fatalf("round %d: address %x, CometBFT's %x", round, ours[i].Address, pub.Address())
			}
			if !bytes.Equal(ours[i].SimpleBytes(), ref[i].Bytes()) {
				t.Fatalf("round %d: leaf %x, CometBFT's %x", round, ours[i].SimpleBytes(), ref[i].Bytes())
			}
		}
		rng.Shuffle(n, func(i, j int) { ours[i], ours[j] = ours[j], ours[i] })
		SortByPower(ours)
		want := cmttypes.NewValidatorSet(ref)
		for i, v := range want.Validators {
			if !bytes.Equal(ours[i].Address, v.Address) {
				t.Fatalf("round %d: member %d is %x, CometBFT's %x", round, i, ours[i].Address, v.Address)
			}
		}
		if !bytes.Equal(ValidatorSetHash(ours), want.Hash()) {
			t.Fatalf("round %d: set hash %x, CometBFT's %x", round, ValidatorSetHash(ours), want.Hash())
		}
	}
}

// CheckPower, applied member by member, accepts exactly the sets of powers
// CometBFT's NewValidatorSet builds (it panics on the others).
func TestCheckPowerIsCometBFTs(t *testing.T) {
	const max = MaxTotalVotingPower
	for _, powers := range [][]int64{
		{1}, {0}, {-1}, {1, 0}, {max}, {max + 1}, {max - 1, 1}, {max - 1, 2}, {max, 1}, {1 << 62}, {max / 2, max / 2, 1},
	} {
		var total int64
		var ours error
		for _, p := range powers {
			if ours = CheckPower(p, total); ours != nil {
				break
			}
			total += p
		}
		if cometAccepts := newSetSucceeds(powers); (ours == nil) != cometAccepts {
			t.Errorf("powers %v: CheckPower says %v, CometBFT accepts: %v", powers, ours, cometAccepts)
		}
	}
}

func newSetSucceeds(powers []int64) (ok bool) {
	vals := make([]*cmttypes.Validator, len(powers))
	for i, p := range powers {
		vals[i] = cmttypes.NewValidator(key(i), p)
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	cmttypes.NewValidatorSet(vals)
	return true
}

// A member's key is its own: reusing the caller's buffer does not change
// the set or its hash.
func TestNewValidatorCopiesTheKey(t *testing.T) {
	pub := []byte(key(1))
	v := NewValidator(pub, 10)
	before := ValidatorSetHash([]Validator{v})
	pub[0] ^= 0xff
	if !bytes.Equal(ValidatorSetHash([]Validator{v}), before) {
		t.Fatal("the set changed with the caller's buffer")
	}
}
