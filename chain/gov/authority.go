package gov

import (
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
)

// Governance's own Authority methods: its params and treasury spends.

var _ module.Governed = Module{}

// GovernableParams implements module.Governed: every one of governance's
// params; the ranges are those Params.Validate checks.
func (Module) GovernableParams() []module.ParamSpec {
	return []module.ParamSpec{
		{Path: "min_deposit", Range: "base units, positive, at least min_initial_deposit"},
		{Path: "min_initial_deposit", Range: "base units, at most min_deposit"},
		{Path: "deposit_period", Range: "nanoseconds, 1 s to 1 year"},
		{Path: "voting_period", Range: "nanoseconds, 1 s to 1 year"},
		{Path: "quorum", Range: "millionths, (0, 1000000]"},
		{Path: "threshold", Range: "millionths, [500000, 1000000]"},
		{Path: "veto_threshold", Range: "millionths, (0, 1000000]"},
	}
}

// requireAuthority refuses a sender that is neither governance nor a
// development chain's unsafe dev admin.
func requireAuthority(ctx *module.Context) error {
	return authority.Require(ctx.Store, ctx.Sender, govapi.ErrUnauthorized)
}

// setParams is gov.set_params in the shape every module's set_params has.
var setParams = authority.SetParams[govapi.Params]{
	Event:      govapi.EventParamsChanged,
	Governable: Module{}.GovernableParams(),
	Get:        func(ctx *module.Context) (govapi.Params, error) { return GetParams(ctx.Store) },
	Validate:   func(_ *module.Context, p govapi.Params) error { return p.Validate() },
	Put:        func(ctx *module.Context, p govapi.Params) { putParams(ctx.Store, p) },
	ErrInvalid: govapi.ErrInvalid, ErrParams: govapi.ErrParams, ErrUnauthorized: govapi.ErrUnauthorized,
}

// handleSpendTreasury pays from the treasury, where every fee goes.
func handleSpendTreasury(ctx *module.Context, body []byte) error {
	var s govapi.Spend
	if err := codec.UnmarshalCanonical(body, &s); err != nil {
		return govapi.ErrInvalid.Wrapf("spend body: %v", err)
	}
	switch {
	case s.Amount.IsZero():
		return govapi.ErrInvalid.Wrapf("a spend of zero")
	case s.To.IsZero():
		return govapi.ErrInvalid.Wrapf("a spend to the zero address")
	case s.To == bankapi.Treasury:
		return govapi.ErrInvalid.Wrapf("a spend to the treasury itself")
	}
	if err := requireAuthority(ctx); err != nil {
		return err
	}
	t, err := bank.GetAccount(ctx.Store, bankapi.Treasury)
	if err != nil {
		return err
	}
	if t.Balance.Cmp(s.Amount) < 0 {
		return govapi.ErrTreasury.Wrapf("a spend of %s, the treasury holds %s", s.Amount.PHAString(), t.Balance.PHAString())
	}
	if err := bank.Move(ctx.Store, bankapi.Treasury, s.To, s.Amount); err != nil {
		return err
	}
	ctx.Emit(govapi.EventTreasurySpent, module.A("to", s.To), module.A("amount", s.Amount))
	return nil
}
