package gov

import (
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
)

// The proposal half of governance: proposing, depositing and voting
// (tx.go), the end of periods with the tally and the execution of passed
// proposals (endblock.go, tally.go), governance's own Authority methods
// (authority.go) and the queries (query.go).

var _ module.EndBlocker = Module{}

// proposalMethods are the proposal, deposit and vote transactions and the
// module's own authority methods (params, treasury spends).
func proposalMethods() []module.Method {
	return []module.Method{
		{Name: govapi.MethodPropose, Gas: govapi.ProposeGas, Handle: handlePropose},
		{Name: govapi.MethodDeposit, Gas: govapi.DepositGas, Handle: handleDeposit},
		{Name: govapi.MethodVote, Gas: govapi.VoteGas, Handle: handleVote},
		{Name: govapi.MethodSetParams, Gas: govapi.AuthorityGas, Authority: true, Handle: setParams.Handle},
		{Name: govapi.MethodSpendTreasury, Gas: govapi.AuthorityGas, Authority: true, Handle: handleSpendTreasury},
	}
}

// proposalQuery answers the proposal, votes and params queries.
func (m Module) proposalQuery(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case govapi.QueryProposals:
		var q govapi.ListQuery
		if err := decodeQuery(path, data, &q); err != nil {
			return nil, err
		}
		return listProposals(r, q)
	case govapi.QueryProposal, govapi.QueryVotes:
		var q govapi.ProposalQuery
		if err := decodeQuery(path, data, &q); err != nil {
			return nil, err
		}
		if path == govapi.QueryVotes {
			return votesOf(r, q.ID)
		}
		return proposalOf(r, q.ID)
	case govapi.QueryParams:
		return m.paramsInfo(r)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}
