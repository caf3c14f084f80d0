package bankapi

import (
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the bank module. They live in the wire form, not beside
// the handlers, because a client proving an account (chain/state queries
// with a proof) must compute the key it asks for without linking the
// handlers.
var (
	AccountKey = state.NewKeyFormat(state.ModuleBank, 0x01) // address → Account
	SupplyKey  = state.NewKeyFormat(state.ModuleBank, 0x02) // → total supply (token.Amount)
	ParamsKey  = state.NewKeyFormat(state.ModuleBank, 0x03) // → Params
)

// AccountKeyOf is the state key of a's Account; absent for an account
// that never received anything.
func AccountKeyOf(a address.Address) []byte { return AccountKey.Key(a[:]) }
