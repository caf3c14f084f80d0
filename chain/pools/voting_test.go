package pools

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// memState is committed state in memory: what an overlay wrote, iterable.
type memState map[string][]byte

func committed(s *state.Overlay) memState {
	m := memState{}
	for _, ch := range s.Changes() {
		if ch.Value != nil {
			m[string(ch.Key)] = ch.Value
		}
	}
	return m
}

func (m memState) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

func (m memState) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

type nothing struct{}

func (nothing) Get([]byte) ([]byte, error) { return nil, nil }

// TestVotingStake: the value of a delegator's shares, queued ones
// included, at each pool's price (a slashed pool's shares are worth
// less), summed over its pools; nobody else's.
func TestVotingStake(t *testing.T) {
	who, other := address.Module("t-voter"), address.Module("t-other")
	s := state.NewOverlay(nothing{})
	putPool(s, poolsapi.Pool{ID: 1, Shares: token.PHA(1000), Stake: token.PHA(800), Locked: token.PHA(800), Queued: token.PHA(200)})
	putPool(s, poolsapi.Pool{ID: 2, Shares: token.PHA(100), Stake: token.PHA(100), Free: token.PHA(100)})
	putPool(s, poolsapi.Pool{ID: 3, Shares: token.PHA(50), Stake: token.PHA(50), Free: token.PHA(50)})
	putDelegation(s, 1, who, poolsapi.Delegation{Shares: token.PHA(500), Queued: token.PHA(200)})
	putDelegation(s, 1, other, poolsapi.Delegation{Shares: token.PHA(500)})
	putDelegation(s, 2, who, poolsapi.Delegation{Shares: token.PHA(10)})
	putDelegation(s, 3, other, poolsapi.Delegation{Shares: token.PHA(50)})
	r := committed(s)
	for _, tc := range []struct {
		who  address.Address
		want token.Amount
	}{
		{who, token.PHA(400 + 10)},
		{other, token.PHA(400 + 50)},
		{address.Module("t-nobody"), token.Amount{}},
	} {
		got, err := VotingStake(r, tc.who)
		if err != nil || got != tc.want {
			t.Errorf("VotingStake(%s) = %s, %v; want %s", tc.who, got.PHAString(), err, tc.want.PHAString())
		}
	}
	for k := range r {
		if bytes.HasPrefix([]byte(k), poolsapi.PoolKeyOf(2)) {
			delete(r, k)
		}
	}
	if _, err := VotingStake(r, who); err == nil {
		t.Fatal("a delegation into a missing pool must be reported")
	}
}
