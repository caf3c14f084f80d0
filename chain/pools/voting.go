package pools

import (
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// VotingStake is the PHA who has in stake pools, for governance's votes:
// the value of who's shares in every pool at the pool's share price,
// shares queued for withdrawal included (they are who's until paid out,
// and paid out they are in who's balance instead). Unclaimed rewards are
// not counted: they are not stake.
//
// It iterates the delegator index, so r must be iterable: governance
// passes the committed state (module.Block.Committed), and reads the
// voter's balance from the same state, so that a unit moving between a
// balance and a pool within the block is counted once, at one moment.
func VotingStake(r state.IterReader, who address.Address) (token.Amount, error) {
	total := token.Amount{}
	prefix := poolsapi.DelegatorKey.Key(who[:])
	err := r.Iterate(prefix, func(k, _ []byte) error {
		id, err := poolsapi.IDFromBytes(k[len(prefix):])
		if err != nil {
			return poolsapi.ErrCorruptState.Wrapf("delegator index: %v", err)
		}
		p, err := mustPool(r, id)
		if err != nil {
			return err
		}
		d, _, err := getDelegation(r, id, who)
		if err != nil {
			return err
		}
		if total, err = total.Add(tokenomics.ShareValue(d.Shares, p.Shares, p.Stake)); err != nil {
			return poolsapi.ErrCorruptState.Wrapf("stake overflow")
		}
		return nil
	})
	return total, err
}
