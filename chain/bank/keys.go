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
