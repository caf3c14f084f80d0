package compute

import (
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

var _ module.Governed = Module{}

// governable is every param but settle_every (see fixedParams); the
// ranges are computeapi.Params.Validate's and tokenomics.Params.Validate's.
var governable = []module.ParamSpec{
	{Path: "economy.k", Range: "in (0, 10000]"},
	{Path: "economy.re", Range: "in [1, 10]"},
	{Path: "economy.rig_k", Range: "at most 1000"},
	{Path: "economy.rig_b", Range: "at most 1000000"},
	{Path: "economy.v_max", Range: "in (0, 1e9]"},
	{Path: "economy.growth_per_hour", Range: "in [1, 1.1]"},
	{Path: "economy.cost_k", Range: "at most 1"},
	{Path: "economy.cost_b", Range: "at most 1000"},
	{Path: "economy.slash_per_hour", Range: "below 1"},
	{Path: "economy.treasury_share", Range: "at most 1"},
	{Path: "economy.budget_per_day", Range: "positive base units; the whole schedule must fit in the reward pool"},
	{Path: "economy.decay_every", Range: "nanoseconds, at least an hour"},
	{Path: "economy.decay_factor", Range: "below 1"},
	{Path: "economy.min_score", Range: "positive"},
	{Path: "economy.cool_down", Range: "nanoseconds, in [settle_every, 1 year]"},
	{Path: "challenge_every", Range: "nanoseconds, in [1s, 7 days]"},
	{Path: "max_challenges_per_block", Range: "in [1, 10000]"},
	{Path: "answer_window", Range: "nanoseconds, in [1s, 24h]"},
	{Path: "slash_share", Range: "at most 1"},
}

// fixedParams never change on a running chain.
var fixedParams = map[string]string{
	"settle_every": "settlement periods are numbered by their length from the economy's start, so a new length would renumber " +
		"them and could pay a period twice; it is fixed at genesis",
}

// GovernableParams implements module.Governed.
func (Module) GovernableParams() []module.ParamSpec { return governable }

// setParams: the rest of the new schedule must fit in what the reward
// pool holds now, and enclaves learn the new params (TopicParams).
var setParams = authority.SetParams[computeapi.Params]{
	Event:      computeapi.EventParams,
	Governable: governable,
	Fixed:      fixedParams,
	Get:        func(ctx *module.Context) (computeapi.Params, error) { return GetParams(ctx.Store) },
	Validate:   validateNow,
	Put: func(ctx *module.Context, p computeapi.Params) {
		ctx.Store.Set(computeapi.ParamsKey.Key(), codec.MustMarshal(p))
		ctx.Publish(mq.Message{Topic: computeapi.TopicParams, Payload: codec.MustMarshal(p)})
	},
	ErrInvalid: computeapi.ErrInvalid, ErrParams: computeapi.ErrParams, ErrUnauthorized: computeapi.ErrUnauthorized,
}
