package bank

import (
	"fmt"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// TotalSupply is fixed: one billion PHA, all minted at genesis.
var TotalSupply = token.PHA(1_000_000_000)

// Allocation purposes of the tokenomics.
const (
	PurposeMiningRewards       = "mining_rewards"
	PurposeCommunity           = "community"
	PurposePrivatePlacement    = "private_placement"
	PurposeDeveloperIncentives = "developer_incentives"
	PurposeTeam                = "team"
)

var purposes = map[string]bool{
	PurposeMiningRewards: true, PurposeCommunity: true, PurposePrivatePlacement: true,
	PurposeDeveloperIncentives: true, PurposeTeam: true,
}

// Genesis is the bank's section of the genesis file.
type Genesis struct {
	TotalSupply token.Amount `json:"total_supply"`
	Params      Params       `json:"params"`
	Allocations []Allocation `json:"allocations"`
}

// Allocation gives Amount to one account for one purpose.
type Allocation struct {
	Purpose string          `json:"purpose"`
	Address address.Address `json:"address"`
	Name    string          `json:"name,omitempty"` // a label for people, e.g. "alice"
	Amount  token.Amount    `json:"amount"`
}

// DefaultParams are the fees of a fresh network: 0.001 PHA per transaction
// plus 0.000001 PHA per byte; accounts need at least 0.01 PHA to exist.
func DefaultParams() Params {
	return Params{
		BaseFee:    token.FromUint64(1_000_000_000),
		ByteFee:    token.FromUint64(1_000_000),
		MinBalance: token.FromUint64(10_000_000_000),
	}
}

// DefaultGenesis follows the tokenomics: 70% mining rewards, 9% community,
// and 21% split into private placement (10%), developer incentives (6%) and
// team (5%), given to the three holders in that order.
func DefaultGenesis(privatePlacement, developerIncentives, team address.Address) Genesis {
	pct := func(p uint64) token.Amount { return token.PHA(10_000_000 * p) }
	return Genesis{
		TotalSupply: TotalSupply,
		Params:      DefaultParams(),
		Allocations: []Allocation{
			{Purpose: PurposeMiningRewards, Address: RewardPool, Name: "reward pool", Amount: pct(70)},
			{Purpose: PurposeCommunity, Address: Community, Name: "community", Amount: pct(9)},
			{Purpose: PurposePrivatePlacement, Address: privatePlacement, Amount: pct(10)},
			{Purpose: PurposeDeveloperIncentives, Address: developerIncentives, Amount: pct(6)},
			{Purpose: PurposeTeam, Address: team, Amount: pct(5)},
		},
	}
}

// Validate checks the supply and the allocation before anything is written.
func (g Genesis) Validate() error {
	if g.TotalSupply != TotalSupply {
		return fmt.Errorf("bank genesis: total_supply is %s, must be exactly %s (1,000,000,000 PHA)", g.TotalSupply, TotalSupply)
	}
	sum, seen := token.Amount{}, map[address.Address]bool{}
	pool := false
	for i, a := range g.Allocations {
		if err := a.validate(); err != nil {
			return fmt.Errorf("bank genesis: allocation %d: %w", i, err)
		}
		if seen[a.Address] {
			return fmt.Errorf("bank genesis: allocation %d: address %s allocated twice", i, a.Address)
		}
		seen[a.Address] = true
		pool = pool || a.Purpose == PurposeMiningRewards
		var err error
		if sum, err = sum.Add(a.Amount); err != nil {
			return fmt.Errorf("bank genesis: allocations overflow: %w", err)
		}
	}
	if !pool {
		return fmt.Errorf("bank genesis: no %s allocation to the reward pool", PurposeMiningRewards)
	}
	if sum != g.TotalSupply {
		return fmt.Errorf("bank genesis: allocations sum to %s, total_supply is %s", sum, g.TotalSupply)
	}
	return nil
}

func (a Allocation) validate() error {
	switch {
	case !purposes[a.Purpose]:
		return fmt.Errorf("unknown purpose %q", a.Purpose)
	case a.Purpose == PurposeMiningRewards && a.Address != RewardPool:
		return fmt.Errorf("mining rewards must go to the keyless reward pool %s, not %s", RewardPool, a.Address)
	case a.Purpose != PurposeMiningRewards && a.Address == RewardPool:
		return fmt.Errorf("only mining rewards may go to the reward pool")
	case a.Address.IsZero():
		return fmt.Errorf("no address")
	case a.Amount.IsZero():
		return fmt.Errorf("zero amount")
	}
	return nil
}
