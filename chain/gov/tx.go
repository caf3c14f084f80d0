package gov

import (
	"time"

	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/token"
)

// handlePropose checks the proposal (limits, then every action run once
// as governance would run it, on a state thrown away), takes the initial
// deposit and opens the deposit period, or the voting period at once when
// the deposit already reaches MinDeposit.
func handlePropose(ctx *module.Context, body []byte) error {
	p, err := decodePropose(body)
	if err != nil {
		return err
	}
	if err := checkLimits(p); err != nil {
		return err
	}
	if err := checkActions(ctx, p.Actions); err != nil {
		return err
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	if p.Deposit.Cmp(params.MinInitialDeposit) < 0 {
		return govapi.ErrDepositTooLow.Wrapf("%s, at least %s to propose", p.Deposit.PHAString(), params.MinInitialDeposit.PHAString())
	}
	id, err := nextID(ctx.Store)
	if err != nil {
		return err
	}
	if err := takeDeposit(ctx, id, p.Deposit); err != nil {
		return err
	}
	prop := govapi.Proposal{
		ID: id, Proposer: ctx.Sender, Title: p.Title, Description: p.Description, Actions: p.Actions,
		Status: govapi.StatusDeposit, SubmitHeight: ctx.Height, SubmitTime: ctx.Time.UnixNano(),
		DepositEnd: ctx.Time.Add(params.DepositPeriod).UnixNano(), TotalDeposit: p.Deposit,
	}
	ctx.Emit(govapi.EventProposed, module.A("proposal", id), module.A("proposer", ctx.Sender),
		module.A("title", p.Title), module.A("actions", uint64(len(p.Actions))), module.A("deposit", p.Deposit))
	startVotingIfDue(ctx, &prop, params)
	putProposal(ctx.Store, prop)
	index(ctx.Store, prop)
	return nil
}

// checkLimits bounds what a proposal stores.
func checkLimits(p govapi.Propose) error {
	switch {
	case p.Title == "" || len(p.Title) > govapi.MaxTitle:
		return govapi.ErrInvalid.Wrapf("title of %d bytes, want 1..%d", len(p.Title), govapi.MaxTitle)
	case len(p.Description) > govapi.MaxDescription:
		return govapi.ErrInvalid.Wrapf("description of %d bytes, at most %d", len(p.Description), govapi.MaxDescription)
	case len(p.Actions) > govapi.MaxActions:
		return govapi.ErrInvalid.Wrapf("%d actions, at most %d", len(p.Actions), govapi.MaxActions)
	}
	for i, a := range p.Actions {
		if a.Method == "" || len(a.Body) > govapi.MaxActionBody {
			return govapi.ErrInvalid.Wrapf("action %d: method %q with a body of %d bytes (at most %d)", i, a.Method, len(a.Body), govapi.MaxActionBody)
		}
	}
	return nil
}

// checkActions runs the actions in order, with governance as their
// sender, on a branch of the state that is never merged: an unknown
// param, a value out of range, a method governance may not run or a spend
// the treasury cannot pay is refused now rather than when the vote ends.
// The branch's context is a fresh one, so the actions' events and
// messages vanish with it.
func checkActions(ctx *module.Context, actions []govapi.Action) error {
	trial := &module.Context{Block: ctx.Block, Store: ctx.Store.Branch(), Sender: authority.Gov, TxHash: ctx.TxHash, CheckOnly: ctx.CheckOnly}
	for i, a := range actions {
		if err := trial.Dispatch(trial, a.Method, a.Body); err != nil {
			return govapi.ErrBadAction.Wrapf("action %d (%s): %v", i, a.Method, err)
		}
	}
	return nil
}

// takeDeposit moves amount from the sender to the deposits account and
// records it as the sender's deposit on proposal id.
func takeDeposit(ctx *module.Context, id uint64, amount token.Amount) error {
	if err := bank.OpenModuleAccount(ctx.Store, govapi.Deposits); err != nil {
		return err
	}
	if err := bank.Move(ctx.Store, ctx.Sender, govapi.Deposits, amount); err != nil {
		return err
	}
	before, err := getDeposit(ctx.Store, id, ctx.Sender)
	if err != nil {
		return err
	}
	sum, err := before.Add(amount)
	if err != nil {
		return govapi.ErrInvalid.Wrapf("deposit overflow")
	}
	putDeposit(ctx.Store, id, ctx.Sender, sum)
	return nil
}

// startVotingIfDue opens the voting period of a proposal in its deposit
// period whose deposits reached MinDeposit. The caller re-indexes it.
func startVotingIfDue(ctx *module.Context, p *govapi.Proposal, params govapi.Params) {
	if p.Status != govapi.StatusDeposit || p.TotalDeposit.Cmp(params.MinDeposit) < 0 {
		return
	}
	p.Status = govapi.StatusVoting
	p.VotingStart = ctx.Time.UnixNano()
	p.VotingEnd = ctx.Time.Add(params.VotingPeriod).UnixNano()
	ctx.Emit(govapi.EventVotingStarted, module.A("proposal", p.ID),
		module.A("voting_end", time.Unix(0, p.VotingEnd).UTC().Format(time.RFC3339)))
}

// handleDeposit adds to an open proposal's deposit; reaching MinDeposit
// in the deposit period opens the voting period.
func handleDeposit(ctx *module.Context, body []byte) error {
	d, err := decodeDeposit(body)
	if err != nil {
		return err
	}
	if d.Amount.IsZero() {
		return govapi.ErrInvalid.Wrapf("deposit of zero")
	}
	p, err := mustProposal(ctx.Store, d.Proposal)
	if err != nil {
		return err
	}
	// A period that ended in this block is settled by its end of block:
	// no deposit may slip in before it.
	if end, open := currentEnd(p); !open || ctx.Time.UnixNano() >= end {
		return govapi.ErrNotDepositing.Wrapf("proposal %d is %s", p.ID, p.Status)
	}
	params, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	if err := takeDeposit(ctx, p.ID, d.Amount); err != nil {
		return err
	}
	if p.TotalDeposit, err = p.TotalDeposit.Add(d.Amount); err != nil {
		return govapi.ErrInvalid.Wrapf("deposit overflow")
	}
	ctx.Emit(govapi.EventDeposited, module.A("proposal", p.ID), module.A("depositor", ctx.Sender),
		module.A("amount", d.Amount), module.A("total", p.TotalDeposit))
	unindex(ctx.Store, p)
	startVotingIfDue(ctx, &p, params)
	index(ctx.Store, p)
	putProposal(ctx.Store, p)
	return nil
}

// handleVote records the sender's vote, replacing an earlier one: the
// latest counts. Its weight is read when the voting period ends.
func handleVote(ctx *module.Context, body []byte) error {
	v, err := decodeVote(body)
	if err != nil {
		return err
	}
	if v.Option < govapi.OptionYes || v.Option > govapi.OptionVeto {
		return govapi.ErrInvalid.Wrapf("option %d, want yes (1), no (2), abstain (3) or veto (4)", v.Option)
	}
	p, err := mustProposal(ctx.Store, v.Proposal)
	if err != nil {
		return err
	}
	if p.Status != govapi.StatusVoting || ctx.Time.UnixNano() >= p.VotingEnd {
		return govapi.ErrNotVoting.Wrapf("proposal %d is %s", p.ID, votingState(p))
	}
	w, err := weightNow(ctx, ctx.Sender)
	if err != nil {
		return err
	}
	if w.IsZero() {
		return govapi.ErrNoVotingPower.Wrapf("%s", ctx.Sender)
	}
	putVote(ctx.Store, p.ID, govapi.VoteRecord{Voter: ctx.Sender, Option: v.Option, Height: ctx.Height})
	ctx.Emit(govapi.EventVoted, module.A("proposal", p.ID), module.A("voter", ctx.Sender), module.A("option", v.Option))
	return nil
}

// votingState says why a proposal takes no vote.
func votingState(p govapi.Proposal) string {
	if p.Status == govapi.StatusVoting {
		return "past its voting period (it ended " + time.Unix(0, p.VotingEnd).UTC().Format(time.RFC3339) + ")"
	}
	return p.Status.String()
}
