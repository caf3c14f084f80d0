package pools

import (
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/codec"
)

var _ module.Governed = Module{}

// governable is every param. A lower max_workers or a higher
// min_delegation binds what comes next: pools and delegations already
// beyond them stand.
var governable = []module.ParamSpec{
	{Path: "max_workers", Range: "in [1, 10000]"},
	{Path: "min_delegation", Range: "base units, positive"},
	{Path: "withdraw_grace", Range: "nanoseconds, in [1 minute, 1 year]"},
	{Path: "max_serve", Range: "in [1, 1000]"},
}

// GovernableParams implements module.Governed.
func (Module) GovernableParams() []module.ParamSpec { return governable }

var setParams = authority.SetParams[poolsapi.Params]{
	Event:      poolsapi.EventParams,
	Governable: governable,
	Get:        func(ctx *module.Context) (poolsapi.Params, error) { return GetParams(ctx.Store) },
	Validate:   func(_ *module.Context, p poolsapi.Params) error { return p.Validate() },
	Put: func(ctx *module.Context, p poolsapi.Params) {
		ctx.Store.Set(poolsapi.ParamsKey.Key(), codec.MustMarshal(p))
	},
	ErrInvalid: poolsapi.ErrInvalid, ErrParams: poolsapi.ErrParams, ErrUnauthorized: poolsapi.ErrUnauthorized,
}
