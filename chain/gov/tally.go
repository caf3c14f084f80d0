package gov

import (
	"math/big"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// A vote weighs the PHA its voter holds plus the PHA it has in stake
// pools. Every weight of a tally is read from one state, the committed
// state of the previous block: a unit is then either in a balance or in a
// pool, never both, so it counts once however it moved within the block
// (delegating moves it from the balance to the pool's account, which no
// key controls and which never votes). Committed state is also the only
// one that iterates, as the pool index needs.

// weight is who's voting weight in r.
func weight(r state.IterReader, who address.Address) (token.Amount, error) {
	return weightOf(r, r, who)
}

// weightNow is whether a voter has any weight at all as of this
// transaction: its balance now, its stake as of the last block (the pool
// index iterates on committed state only).
func weightNow(ctx *module.Context, who address.Address) (token.Amount, error) {
	return weightOf(ctx.Store, ctx.Committed, who)
}

// weightOf is who's balance in balances plus its pool stake in stakes.
func weightOf(balances state.Reader, stakes state.IterReader, who address.Address) (token.Amount, error) {
	acc, err := bank.GetAccount(balances, who)
	if err != nil {
		return token.Amount{}, err
	}
	staked, err := pools.VotingStake(stakes, who)
	if err != nil {
		return token.Amount{}, err
	}
	w, err := acc.Balance.Add(staked)
	if err != nil {
		return token.Amount{}, govapi.ErrCorruptState.Wrapf("weight overflow")
	}
	return w, nil
}

// notVoting are the module accounts whose PHA cannot vote: the quorum is
// a share of the rest.
var notVoting = []address.Address{bankapi.RewardPool, bankapi.Treasury, bankapi.Community, govapi.Deposits, bankapi.Burned}

// eligible is the PHA that could vote: the total supply less the module
// accounts that cannot.
func eligible(r state.Reader) (token.Amount, error) {
	out, err := bank.GetSupply(r)
	if err != nil {
		return out, err
	}
	for _, a := range notVoting {
		acc, err := bank.GetAccount(r, a)
		if err != nil {
			return out, err
		}
		if out, err = out.Sub(acc.Balance); err != nil {
			return out, govapi.ErrCorruptState.Wrapf("module account %s holds more than the supply", a)
		}
	}
	return out, nil
}

// count tallies proposal id's votes in r, each weighed in r.
func count(r state.IterReader, id uint64) (govapi.Tally, error) {
	var t govapi.Tally
	var err error
	if t.Eligible, err = eligible(r); err != nil {
		return t, err
	}
	err = r.Iterate(govapi.VoteKey.Key(govapi.IDBytes(id)), func(_, v []byte) error {
		var rec govapi.VoteRecord
		if err := codec.Unmarshal(v, &rec); err != nil {
			return govapi.ErrCorruptState.Wrapf("vote: %v", err)
		}
		w, err := weight(r, rec.Voter)
		if err != nil {
			return err
		}
		t.Voters++
		return addTo(&t, rec.Option, w)
	})
	return t, err
}

func addTo(t *govapi.Tally, o govapi.Option, w token.Amount) error {
	var dst *token.Amount
	switch o {
	case govapi.OptionYes:
		dst = &t.Yes
	case govapi.OptionNo:
		dst = &t.No
	case govapi.OptionAbstain:
		dst = &t.Abstain
	case govapi.OptionVeto:
		dst = &t.Veto
	default:
		return govapi.ErrCorruptState.Wrapf("vote option %d", o)
	}
	sum, err := dst.Add(w)
	if err != nil {
		return govapi.ErrCorruptState.Wrapf("tally overflow")
	}
	*dst = sum
	return nil
}

// decide is a counted proposal's fate before its actions run: NoQuorum
// unless votes of every option reach Quorum of the eligible; Vetoed when
// veto reaches VetoThreshold of the votes; Passed (to be executed) when
// yes is more than Threshold of yes, no and veto; else Rejected. Whole
// numbers throughout: a/b ≥ p/10^6 is a·10^6 ≥ p·b.
func decide(t govapi.Tally, p govapi.Params) govapi.Status {
	votes := sum(t.Yes, t.No, t.Abstain, t.Veto)
	decided := sum(t.Yes, t.No, t.Veto)
	switch {
	case votes.Sign() == 0 || cmpShare(votes, t.Eligible.Big(), p.Quorum) < 0:
		return govapi.StatusNoQuorum
	case cmpShare(t.Veto.Big(), votes, p.VetoThreshold) >= 0:
		return govapi.StatusVetoed
	case decided.Sign() > 0 && cmpShare(t.Yes.Big(), decided, p.Threshold) > 0:
		return govapi.StatusPassed
	}
	return govapi.StatusRejected
}

func sum(as ...token.Amount) *big.Int {
	out := new(big.Int)
	for _, a := range as {
		out.Add(out, a.Big())
	}
	return out
}

// cmpShare compares part/whole with share (in millionths).
func cmpShare(part, whole *big.Int, share tokenomics.Permill) int {
	l := new(big.Int).Mul(part, big.NewInt(int64(tokenomics.Million)))
	r := new(big.Int).Mul(whole, big.NewInt(int64(share)))
	return l.Cmp(r)
}
