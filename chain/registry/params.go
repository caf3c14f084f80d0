package registry

import (
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
)

var _ module.Governed = Module{}

// governable: both params. A shorter re-attestation period applies to
// each node at its next registration; deadlines already set stand.
var governable = []module.ParamSpec{
	{Path: "reattest_seconds", Range: "seconds, in [600, 31536000000] (10 minutes to 1000 years)"},
	{Path: "max_anchor_age", Range: "blocks, in [1, 1000] (the block hashes the chain keeps)"},
}

// GovernableParams implements module.Governed.
func (Module) GovernableParams() []module.ParamSpec { return governable }

var setParams = authority.SetParams[registryapi.Params]{
	Event:      registryapi.EventParams,
	Governable: governable,
	Get:        func(ctx *module.Context) (registryapi.Params, error) { return getParams(ctx.Store) },
	Validate:   func(_ *module.Context, p registryapi.Params) error { return p.Validate() },
	Put: func(ctx *module.Context, p registryapi.Params) {
		ctx.Store.Set(paramsKey.Key(), codec.MustMarshal(p))
	},
	ErrInvalid: registryapi.ErrInvalid, ErrParams: registryapi.ErrParams, ErrUnauthorized: registryapi.ErrUnauthorized,
}
