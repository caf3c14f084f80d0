package bank

import (
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the bank module.
var (
	accountKey = state.NewKeyFormat(state.ModuleBank, 0x01) // address → Account
	supplyKey  = state.NewKeyFormat(state.ModuleBank, 0x02) // → total supply
	paramsKey  = state.NewKeyFormat(state.ModuleBank, 0x03) // → Params
)

func accountKeyOf(a address.Address) []byte { return accountKey.Key(a[:]) }

// Module accounts: addresses no key controls.
var (
	// RewardPool holds the 70% of the supply that only computation rewards
	// may release.
	RewardPool = address.Module("rewards")
	// Community holds the community allocation (governance releases it).
	Community = address.Module("community")
	// Treasury receives every fee.
	Treasury = address.Module("treasury")
)
