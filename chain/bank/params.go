package bank

import (
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
)

var _ module.Governed = Module{}

var governable = []module.ParamSpec{
	{Path: "base_fee", Range: "base units, at most 1000 PHA"},
	{Path: "byte_fee", Range: "base units, at most 1 PHA"},
	{Path: "min_balance", Range: "base units, in (0, 1000 PHA]; existing accounts below it stay"},
}

// GovernableParams implements module.Governed.
func (Module) GovernableParams() []module.ParamSpec { return governable }

// setParams: the new fees apply from the next transaction on (the
// application reads them per transaction).
var setParams = authority.SetParams[bankapi.Params]{
	Event:      bankapi.EventParams,
	Governable: governable,
	Get:        func(ctx *module.Context) (bankapi.Params, error) { return GetParams(ctx.Store) },
	Validate:   func(_ *module.Context, p bankapi.Params) error { return p.Validate() },
	Put: func(ctx *module.Context, p bankapi.Params) {
		ctx.Store.Set(paramsKey.Key(), codec.MustMarshal(p))
	},
	ErrInvalid: bankapi.ErrParams, ErrParams: bankapi.ErrParams, ErrUnauthorized: bankapi.ErrUnauthorized,
}
