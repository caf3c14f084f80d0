package cometrpc_test

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"testing"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/cometrpc"
)

// A set of several validators, some of equal power, encodes and hashes
// as CometBFT's NewValidatorSet does, whatever order the node lists it in.
func TestValidatorSetMatchesCometBFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := 1 + rng.IntN(12)
		ours := make([]cometrpc.Validator, n)
		ref := make([]*cmttypes.Validator, n)
		for i := range n {
			seed := make([]byte, ed25519.SeedSize)
			for j := range seed {
				seed[j] = byte(rng.UintN(256))
			}
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			power := 1 + rng.Int64N(4)*10
			key := cmted25519.PubKey(pub)
			ref[i] = cmttypes.NewValidator(key, power)
			ours[i] = cometrpc.Validator{Address: cometrpc.HexBytes(key.Address()), PubKey: cometrpc.PubKey{Type: cometrpc.Ed25519KeyType, Value: pub}, VotingPower: power, ProposerPriority: rng.Int64()}
		}
		rng.Shuffle(n, func(i, j int) { ours[i], ours[j] = ours[j], ours[i] })
		set, err := cometrpc.NewValidatorSet(ours)
		if err != nil {
			t.Fatal(err)
		}
		refSet := cmttypes.NewValidatorSet(ref)
		if !bytes.Equal(set.Hash(), refSet.Hash()) {
			t.Fatalf("round %d: hashes differ", round)
		}
		refProto, err := refSet.ToProto()
		if err != nil {
			t.Fatal(err)
		}
		a, _ := set.Proto().Marshal()
		b, _ := refProto.Marshal()
		if !bytes.Equal(a, b) {
			t.Fatalf("round %d: encodings differ", round)
		}
	}
}

func TestValidatorSetRefusesBadMembers(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	good := cometrpc.Validator{Address: cometrpc.HexBytes(cmted25519.PubKey(pub).Address()), PubKey: cometrpc.PubKey{Type: cometrpc.Ed25519KeyType, Value: pub}, VotingPower: 1}
	bad := func(f func(*cometrpc.Validator)) []cometrpc.Validator {
		v := good
		f(&v)
		return []cometrpc.Validator{v}
	}
	for name, vals := range map[string][]cometrpc.Validator{
		"empty":         nil,
		"twice":         {good, good},
		"wrong address": bad(func(v *cometrpc.Validator) { v.Address = make([]byte, 20) }),
		"secp256k1":     bad(func(v *cometrpc.Validator) { v.PubKey.Type = "tendermint/PubKeySecp256k1" }),
		"short key":     bad(func(v *cometrpc.Validator) { v.PubKey.Value = pub[:31] }),
		"zero power":    bad(func(v *cometrpc.Validator) { v.VotingPower = 0 }),
		"huge power":    bad(func(v *cometrpc.Validator) { v.VotingPower = 1 << 62 }),
	} {
		if _, err := cometrpc.NewValidatorSet(vals); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
