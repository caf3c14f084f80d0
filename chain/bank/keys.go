package bank

import (
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/crypto/address"
)

// Stored items of the bank module, declared in bankapi so clients can
// compute the keys they ask proofs for.
var (
	accountKey = bankapi.AccountKey // address → Account
	supplyKey  = bankapi.SupplyKey  // → total supply
	paramsKey  = bankapi.ParamsKey  // → Params
)

func accountKeyOf(a address.Address) []byte { return bankapi.AccountKeyOf(a) }
