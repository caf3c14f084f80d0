package contracts

import (
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
)

var _ module.Governed = Module{}

// governable is every param. A change applies to what comes after it:
// reserves already taken stand, and the end of each block expires
// everything at or below its cut-off, so a shorter timeout expires the
// backlog at once and a longer one only waits longer.
var governable = []module.ParamSpec{
	{Path: "upload_byte_fee", Range: "base units; upload_byte_fee × max_code_size must not overflow"},
	{Path: "max_code_size", Range: "bytes, in [1, 67108864]"},
	{Path: "gas_price", Range: "base units; gas_price × max_gas_limit must not overflow"},
	{Path: "max_gas_limit", Range: "positive"},
	{Path: "max_sealed_size", Range: "bytes, in [1, 1048576]"},
	{Path: "results_timeout_blocks", Range: "blocks, in [1, 2147483648]"},
	{Path: "upload_timeout_blocks", Range: "blocks, in [1, 2147483648]"},
}

// GovernableParams implements module.Governed.
func (Module) GovernableParams() []module.ParamSpec { return governable }

var setParams = authority.SetParams[contractsapi.Params]{
	Event:      contractsapi.EventParams,
	Governable: governable,
	Get:        func(ctx *module.Context) (contractsapi.Params, error) { return getParams(ctx.Store) },
	Validate:   func(_ *module.Context, p contractsapi.Params) error { return p.Validate() },
	Put: func(ctx *module.Context, p contractsapi.Params) {
		ctx.Store.Set(contractsapi.ParamsKey.Key(), codec.MustMarshal(p))
	},
	ErrInvalid: contractsapi.ErrInvalid, ErrParams: contractsapi.ErrParams, ErrUnauthorized: contractsapi.ErrUnauthorized,
}
