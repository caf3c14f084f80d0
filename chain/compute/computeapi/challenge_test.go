package computeapi

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"testing"
	"time"

	"github.com/phala-go/phala/tokenomics/fixed"
)

func identities(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		seed := make([]byte, ed25519.SeedSize)
		binary.BigEndian.PutUint64(seed, uint64(i+1))
		out[i] = ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	}
	return out
}

func TestChallengeTarget(t *testing.T) {
	var none, all [32]byte
	for i := range all {
		all[i] = 0xff
	}
	half := [32]byte{0x80}
	for _, c := range []struct {
		name      string
		computing uint64
		perBlock  fixed.Q
		want      [32]byte
	}{
		{"no one computing", 0, fixed.Int(5), none},
		{"no challenge expected", 10, fixed.Zero, none},
		{"as many as compute", 3, fixed.Int(3), all},
		{"more than compute", 3, fixed.Int(20), all},
		{"one of two", 2, fixed.One, half},
	} {
		if got := ChallengeTarget(c.computing, c.perBlock); got != c.want {
			t.Errorf("%s: %x, want %x", c.name, got, c.want)
		}
	}
	// Everyone is challenged by an all-ones target, no one by zero.
	seed := ChallengeSeed("phala-test", 7, []byte("prev"))
	for _, id := range identities(50) {
		if !Challenged(seed, id, all) || Challenged(seed, id, none) {
			t.Fatalf("%x: the extreme targets do not decide", id)
		}
	}
}

// TestChallengeRate: over many blocks each of 10,000 workers is challenged
// with the expected probability: perBlock of them a block on average.
func TestChallengeRate(t *testing.T) {
	ids := identities(10_000)
	perBlock := fixed.Int(20)
	target := ChallengeTarget(uint64(len(ids)), perBlock)
	const blocks = 50
	total := 0
	for h := range int64(blocks) {
		seed := ChallengeSeed("phala-test", h+1, []byte{byte(h)})
		for _, id := range ids {
			if Challenged(seed, id, target) {
				total++
			}
		}
	}
	// 1,000 expected; the binomial's standard deviation is about 32.
	if total < 850 || total > 1150 {
		t.Fatalf("%d challenges over %d blocks of 10,000 workers, want about %d", total, blocks, 20*blocks)
	}
}

func TestChallengeSeedBindsItsInputs(t *testing.T) {
	base := ChallengeSeed("a", 1, []byte("h"))
	for _, other := range [][32]byte{
		ChallengeSeed("b", 1, []byte("h")),
		ChallengeSeed("a", 2, []byte("h")),
		ChallengeSeed("a", 1, []byte("g")),
	} {
		if other == base {
			t.Fatal("seed does not depend on chain, height and previous hash")
		}
	}
	if ChallengeSeed("a", 1, []byte("h")) != base {
		t.Fatal("seed is not a function of its inputs")
	}
}

func TestExpectedChallenges(t *testing.T) {
	for _, c := range []struct {
		name        string
		computing   uint64
		span, every time.Duration
		max         uint64
		want        fixed.Q
	}{
		{"no one", 0, time.Second, time.Second, 20, fixed.Zero},
		{"first block", 10, 0, time.Second, 20, fixed.Zero},
		{"each once a block", 10, time.Second, time.Second, 20, fixed.Int(10)},
		{"capped", 100, time.Second, time.Second, 20, fixed.Int(20)},
		{"a fraction", 1, 500 * time.Millisecond, 30 * time.Minute, 20, fixed.MustRatio(1, 3600)},
		{"a long gap is capped", 1_000_000, 1000 * time.Hour, time.Second, 5, fixed.Int(5)},
	} {
		got := ExpectedChallenges(c.computing, c.span, c.every, c.max)
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestSessionOwes(t *testing.T) {
	s := Session{StartHeight: 10}
	for h, want := range map[int64]bool{9: false, 10: false, 11: true, 1000: true} {
		if s.Owes(h) != want {
			t.Errorf("started at 10, owes %d: %v", h, !want)
		}
	}
	s.StopHeight = 20
	for h, want := range map[int64]bool{19: true, 20: false, 21: false} {
		if s.Owes(h) != want {
			t.Errorf("stopped at 20, owes %d: %v", h, !want)
		}
	}
}

func TestTargetOrderIsBigEndian(t *testing.T) {
	// A hash just under the target passes, equal does not.
	var target [32]byte
	target[0] = 0x10
	seed := [32]byte{}
	for _, id := range identities(2000) {
		h := Challenged(seed, id, target)
		var d [32]byte
		copy(d[:], sha(seed, id))
		if h != (bytes.Compare(d[:], target[:]) < 0) {
			t.Fatalf("%x: challenged %v against %x", d, h, target)
		}
	}
}
