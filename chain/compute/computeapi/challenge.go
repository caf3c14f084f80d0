package computeapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"time"

	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// The heartbeat challenge. Every block derives a seed; a worker in a
// session is challenged by the block when the hash of the seed and its
// identity falls under the block's target. The chain publishes seed and
// target (TopicChallenge); workers test themselves, gatekeepers test every
// session, and the chain tests an answer, all with Challenged, so all agree
// on who owes what.

// ChallengeSeed is block height's seed: a hash, under its own context, of
// the chain, the height and the previous block's hash, which no one knew
// before that block was committed.
func ChallengeSeed(chainID string, height int64, prevBlockHash []byte) [32]byte {
	return sigctx.ComputeChallengeSeed.Hash(chainID, binary.BigEndian.AppendUint64(nil, uint64(height)), prevBlockHash)
}

// Challenged reports whether the worker with this identity key is
// challenged by seed: SHA-256(seed ‖ identity), read as a 256-bit
// big-endian number, is below target.
func Challenged(seed [32]byte, identity []byte, target [32]byte) bool {
	h := sha256.New()
	h.Write(seed[:])
	h.Write(identity)
	var d [32]byte
	h.Sum(d[:0])
	return bytes.Compare(d[:], target[:]) < 0
}

// ChallengeTarget is the target that challenges perBlock of computing
// workers on average: 2^256·perBlock/computing, rounded down, every worker
// when perBlock ≥ computing, none when no one computes.
func ChallengeTarget(computing uint64, perBlock fixed.Q) [32]byte {
	var t [32]byte
	if computing == 0 || perBlock.IsZero() {
		return t
	}
	hi, lo := perBlock.Bits()
	n := new(big.Int).SetUint64(hi)
	n.Lsh(n, 64).Or(n, new(big.Int).SetUint64(lo)) // perBlock·2^64
	n.Lsh(n, 192)                                  // perBlock·2^256
	n.Quo(n, new(big.Int).SetUint64(computing))
	if n.BitLen() > 256 {
		for i := range t {
			t[i] = 0xff
		}
		return t
	}
	n.FillBytes(t[:])
	return t
}

// ExpectedChallenges is how many of computing sessions a block that comes
// span after the previous one challenges on average: computing ×
// span/every (each session about once every `every` of block time), at
// most maxPerBlock. Exact: the target depends on no float.
func ExpectedChallenges(computing uint64, span, every time.Duration, maxPerBlock uint64) fixed.Q {
	if computing == 0 || span <= 0 || every <= 0 {
		return fixed.Zero
	}
	num := new(big.Int).SetUint64(computing)
	num.Mul(num, big.NewInt(int64(span)))
	num.Lsh(num, 64)
	num.Quo(num, big.NewInt(int64(every)))
	if num.BitLen() > 128 || num.Cmp(new(big.Int).Lsh(new(big.Int).SetUint64(maxPerBlock), 64)) > 0 {
		return fixed.Int(maxPerBlock)
	}
	lo := new(big.Int).And(num, new(big.Int).SetUint64(^uint64(0))).Uint64()
	return fixed.FromBits(new(big.Int).Rsh(num, 64).Uint64(), lo)
}
