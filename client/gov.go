package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strconv"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// Governance: transactions wait for their block; queries read committed
// state. A proposal's actions are built from people's JSON with package
// chain/gov/govapi/actions.

// Propose submits a proposal with its initial deposit and returns its id
// (from the gov_proposed event).
func (c *Client) Propose(ctx context.Context, key ed25519.PrivateKey, p govapi.Propose) (uint64, Included, error) {
	inc, err := c.Send(ctx, key, govapi.MethodPropose, p)
	if err != nil {
		return 0, inc, err
	}
	id, ok, err := proposalIDOf(inc)
	if err != nil || !ok {
		return 0, inc, fmt.Errorf("transaction %X made a proposal but its event names none (%v)", inc.Hash, err)
	}
	return id, inc, nil
}

// proposalIDOf reads the id from a transaction's gov_proposed event.
func proposalIDOf(inc Included) (uint64, bool, error) {
	if inc.Result == nil {
		return 0, false, nil
	}
	for _, e := range inc.Result.TxResult.Events {
		if e.Type != govapi.EventProposed {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "proposal" {
				id, err := strconv.ParseUint(a.Value, 10, 64)
				return id, err == nil, err
			}
		}
	}
	return 0, false, nil
}

// Deposit adds to a proposal's deposit; reaching the minimum starts its
// voting period.
func (c *Client) Deposit(ctx context.Context, key ed25519.PrivateKey, proposal uint64, amount token.Amount) (Included, error) {
	return c.Send(ctx, key, govapi.MethodDeposit, govapi.Deposit{Proposal: proposal, Amount: amount})
}

// Vote votes on a proposal in its voting period; a later vote replaces an
// earlier one.
func (c *Client) Vote(ctx context.Context, key ed25519.PrivateKey, proposal uint64, option govapi.Option) (Included, error) {
	return c.Send(ctx, key, govapi.MethodVote, govapi.Vote{Proposal: proposal, Option: option})
}

// Proposals lists proposals newest first, following pages until q.Limit
// proposals are read (0: all).
func (c *Client) Proposals(ctx context.Context, q govapi.ListQuery) ([]govapi.Proposal, error) {
	want := int(q.Limit)
	all := []govapi.Proposal{}
	for {
		var page govapi.ProposalList
		if err := c.Query(ctx, govapi.QueryProposals, codec.MustMarshal(q), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Proposals...)
		if want > 0 && len(all) >= want {
			return all[:want], nil
		}
		if !page.More || len(page.Proposals) == 0 {
			return all, nil
		}
		q.Before = page.Proposals[len(page.Proposals)-1].ID
	}
}

// Proposal reads a proposal and, while it is voting, its tally as it would
// be counted now.
func (c *Client) Proposal(ctx context.Context, id uint64) (govapi.ProposalInfo, error) {
	var out govapi.ProposalInfo
	err := c.Query(ctx, govapi.QueryProposal, codec.MustMarshal(govapi.ProposalQuery{ID: id}), &out)
	return out, err
}

// Votes reads a proposal's votes.
func (c *Client) Votes(ctx context.Context, id uint64) ([]govapi.VoteRecord, error) {
	var out govapi.VoteList
	err := c.Query(ctx, govapi.QueryVotes, codec.MustMarshal(govapi.ProposalQuery{ID: id}), &out)
	return out.Votes, err
}

// GovParams reads governance's params, whether the chain has an unsafe
// dev admin, and every param governance may change.
func (c *Client) GovParams(ctx context.Context) (govapi.ParamsInfo, error) {
	var out govapi.ParamsInfo
	err := c.Query(ctx, govapi.QueryParams, nil, &out)
	return out, err
}

// Upgrade reads the scheduled software upgrade, if any.
func (c *Client) Upgrade(ctx context.Context) (govapi.UpgradeInfo, error) {
	var out govapi.UpgradeInfo
	err := c.Query(ctx, govapi.QueryUpgrade, nil, &out)
	return out, err
}
