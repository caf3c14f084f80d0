package tokenomics

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/phala-go/phala/token"
)

// Stake pools' arithmetic. A pool's shares are claims on its stake (the PHA
// delegated to it, less what slashing took): delegating buys shares at the
// pool's price, undelegating sells them back. Rewards are kept apart from
// stake, in a per-share accumulator, so they are never locked in sessions
// and every delegator's part is exact. Every result rounds down, in the
// pool's favour, and what rounding leaves is carried, never lost.

// Permill is a fraction in millionths, such as a pool's commission.
type Permill uint32

// Million is the whole: 100%.
const Million Permill = 1_000_000

// ErrPermill reports a fraction above 100% or that does not parse.
var ErrPermill = errors.New("tokenomics: fraction out of range")

// Of is p of a, rounded down.
func (p Permill) Of(a token.Amount) token.Amount {
	if p >= Million {
		return a
	}
	n := a.Big()
	n.Mul(n, big.NewInt(int64(p)))
	n.Quo(n, big.NewInt(int64(Million)))
	out, _ := token.FromBig(n) // at most a: fits
	return out
}

// String is a percentage: "12.5%".
func (p Permill) String() string {
	whole, frac := uint32(p)/10_000, uint32(p)%10_000
	if frac == 0 {
		return strconv.FormatUint(uint64(whole), 10) + "%"
	}
	return strings.TrimRight(fmt.Sprintf("%d.%04d", whole, frac), "0") + "%"
}

// ParsePermill reads a percentage with at most four decimals ("12.5%") or
// a fraction with at most six ("0.125"), at most 100%.
func ParsePermill(s string) (Permill, error) {
	digits, scale := s, 6 // a fraction: millionths are six decimals
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		digits, scale = pct, 4 // a percentage: millionths are four decimals
	}
	whole, frac, dot := strings.Cut(digits, ".")
	if whole == "" || (dot && frac == "") || len(frac) > scale || len(whole) > 7 ||
		strings.TrimLeft(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %q: want a percentage such as 12.5%% or a fraction such as 0.125", ErrPermill, s)
	}
	n, _ := strconv.ParseUint(whole+frac+strings.Repeat("0", scale-len(frac)), 10, 64)
	if n > uint64(Million) {
		return 0, fmt.Errorf("%w: %q is above 100%%", ErrPermill, s)
	}
	return Permill(n), nil
}

// ErrWorthless reports shares that no stake backs any more (slashing took
// it all): new money must not buy into them.
var ErrWorthless = errors.New("tokenomics: the pool's shares are worth nothing")

// SharesFor is how many shares amount buys in a pool of totalShares backed
// by stake: amount itself in an empty pool (one share per base unit), else
// amount·totalShares/stake rounded down.
func SharesFor(amount, totalShares, stake token.Amount) (token.Amount, error) {
	if totalShares.IsZero() {
		return amount, nil
	}
	if stake.IsZero() {
		return token.Amount{}, ErrWorthless
	}
	return mulDiv(amount, totalShares, stake)
}

// ShareValue is what n of a pool's totalShares are worth when stake backs
// them: n·stake/totalShares rounded down; zero in an empty pool.
func ShareValue(n, totalShares, stake token.Amount) token.Amount {
	if totalShares.IsZero() {
		return token.Amount{}
	}
	v, err := mulDiv(n, stake, totalShares)
	if err != nil {
		return stake // n > totalShares never happens; stay within the stake
	}
	return v
}

// SharesWorth is the most shares whose value is at most value:
// value·totalShares/stake rounded down; zero when nothing backs them.
func SharesWorth(value, totalShares, stake token.Amount) token.Amount {
	if stake.IsZero() {
		return token.Amount{}
	}
	n, err := mulDiv(value, totalShares, stake)
	if err != nil {
		return totalShares
	}
	return n
}

func mulDiv(a, b, c token.Amount) (token.Amount, error) {
	n := a.Big()
	n.Mul(n, b.Big())
	return token.FromBig(n.Quo(n, c.Big()))
}

// RewardScale is the accumulator's unit: rewards per share are counted in
// 10^-24 base units, so a reward of one base unit spread over the whole
// supply (10^21 shares) still moves it.
var RewardScale = new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil)

// Accrue spreads a reward over totalShares: the accumulator (reward per
// share, scaled) grows by (reward·RewardScale + carry)/totalShares and the
// remainder is carried to the next reward, so the shares' earnings add up
// to the rewards exactly over time. It returns the new accumulator and
// carry; totalShares must not be zero.
func Accrue(acc, carry *big.Int, reward, totalShares token.Amount) (newAcc, newCarry *big.Int) {
	total := reward.Big()
	total.Mul(total, RewardScale)
	total.Add(total, carry)
	inc, rem := new(big.Int).QuoRem(total, totalShares.Big(), new(big.Int))
	return inc.Add(inc, acc), rem
}

// Earned is what shares earned, scaled, since the accumulator read paid
// (shares·acc − paid; never negative when paid was shares·an earlier acc).
func Earned(shares token.Amount, acc, paid *big.Int) *big.Int {
	e := shares.Big()
	e.Mul(e, acc)
	if e.Sub(e, paid).Sign() < 0 {
		return new(big.Int)
	}
	return e
}

// Claimable is the whole base units of a scaled amount, and the scaled
// remainder that stays behind.
func Claimable(scaled *big.Int) (token.Amount, *big.Int) {
	q, r := new(big.Int).QuoRem(scaled, RewardScale, new(big.Int))
	a, err := token.FromBig(q)
	if err != nil {
		return token.Amount{}, scaled // beyond the supply: corrupt; keep it all
	}
	return a, r
}
