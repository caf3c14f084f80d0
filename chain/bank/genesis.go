package bank

import (
	"fmt"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

var purposes = map[string]bool{
	bankapi.PurposeMiningRewards: true, bankapi.PurposeCommunity: true, bankapi.PurposePrivatePlacement: true,
	bankapi.PurposeDeveloperIncentives: true, bankapi.PurposeTeam: true,
}

// Genesis is the bank's section of the genesis file.
type Genesis struct {
	TotalSupply token.Amount   `json:"total_supply"`
	Params      bankapi.Params `json:"params"`
	Allocations []Allocation   `json:"allocations"`
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
func DefaultParams() bankapi.Params {
	return bankapi.Params{
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
		TotalSupply: bankapi.TotalSupply,
		Params:      DefaultParams(),
		Allocations: []Allocation{
			{Purpose: bankapi.PurposeMiningRewards, Address: bankapi.RewardPool, Name: "reward pool", Amount: pct(70)},
			{Purpose: bankapi.PurposeCommunity, Address: bankapi.Community, Name: "community", Amount: pct(9)},
			{Purpose: bankapi.PurposePrivatePlacement, Address: privatePlacement, Amount: pct(10)},
			{Purpose: bankapi.PurposeDeveloperIncentives, Address: developerIncentives, Amount: pct(6)},
			{Purpose: bankapi.PurposeTeam, Address: team, Amount: pct(5)},
		},
	}
}

// Validate checks the supply and the allocation before anything is written.
func (g Genesis) Validate() error {
	if g.TotalSupply != bankapi.TotalSupply {
		return fmt.Errorf("bank genesis: total_supply is %s, must be exactly %s (1,000,000,000 PHA)", g.TotalSupply, bankapi.TotalSupply)
	}
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("bank genesis: %w", err)
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
		pool = pool || a.Purpose == bankapi.PurposeMiningRewards
		var err error
		if sum, err = sum.Add(a.Amount); err != nil {
			return fmt.Errorf("bank genesis: allocations overflow: %w", err)
		}
	}
	if !pool {
		return fmt.Errorf("bank genesis: no %s allocation to the reward pool", bankapi.PurposeMiningRewards)
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
	case a.Purpose == bankapi.PurposeMiningRewards && a.Address != bankapi.RewardPool:
		return fmt.Errorf("mining rewards must go to the keyless reward pool %s, not %s", bankapi.RewardPool, a.Address)
	case a.Purpose != bankapi.PurposeMiningRewards && a.Address == bankapi.RewardPool:
		return fmt.Errorf("only mining rewards may go to the reward pool")
	case a.Address.IsZero():
		return fmt.Errorf("no address")
	case a.Amount.IsZero():
		return fmt.Errorf("zero amount")
	}
	return nil
}
