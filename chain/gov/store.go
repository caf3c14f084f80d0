package gov

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// Handlers read single items through the transaction's overlay (overlays
// do not iterate); queries and the end of block iterate committed state.

// GetParams reads governance's params.
func GetParams(r state.Reader) (govapi.Params, error) {
	var p govapi.Params
	ok, err := getOptional(r, govapi.ParamsKey.Key(), &p, "params")
	if err == nil && !ok {
		err = govapi.ErrCorruptState.Wrapf("no params (chain not initialised)")
	}
	return p, err
}

func putParams(s *state.Overlay, p govapi.Params) {
	s.Set(govapi.ParamsKey.Key(), codec.MustMarshal(p))
}

// nextID numbers proposals from 1.
func nextID(s *state.Overlay) (uint64, error) {
	raw, err := s.Get(govapi.LastIDKey.Key())
	if err != nil {
		return 0, err
	}
	var last uint64
	switch len(raw) {
	case 0:
	case 8:
		last = binary.BigEndian.Uint64(raw)
	default:
		return 0, govapi.ErrCorruptState.Wrapf("last proposal id is %d bytes", len(raw))
	}
	s.Set(govapi.LastIDKey.Key(), govapi.IDBytes(last+1))
	return last + 1, nil
}

// GetProposal reads a proposal; ok is false if there is none.
func GetProposal(r state.Reader, id uint64) (govapi.Proposal, bool, error) {
	var p govapi.Proposal
	ok, err := getOptional(r, govapi.ProposalKeyOf(id), &p, "proposal")
	return p, ok, err
}

// mustProposal reads a proposal that must exist.
func mustProposal(r state.Reader, id uint64) (govapi.Proposal, error) {
	p, ok, err := GetProposal(r, id)
	if err == nil && !ok {
		err = govapi.ErrUnknownProposal.Wrapf("proposal %d", id)
	}
	return p, err
}

func putProposal(s *state.Overlay, p govapi.Proposal) {
	s.Set(govapi.ProposalKeyOf(p.ID), codec.MustMarshal(p))
}

// currentEnd is when an open proposal's current period ends; ok is false
// for a proposal that has ended.
func currentEnd(p govapi.Proposal) (int64, bool) {
	switch p.Status {
	case govapi.StatusDeposit:
		return p.DepositEnd, true
	case govapi.StatusVoting:
		return p.VotingEnd, true
	}
	return 0, false
}

// index files an open proposal under the end of its current period.
func index(s *state.Overlay, p govapi.Proposal) {
	if end, ok := currentEnd(p); ok {
		s.Set(govapi.EndsKeyOf(end, p.ID), []byte{})
	}
}

// unindex removes an open proposal from the ends index, before its period
// changes or when it ends.
func unindex(s *state.Overlay, p govapi.Proposal) {
	if end, ok := currentEnd(p); ok {
		s.Delete(govapi.EndsKeyOf(end, p.ID))
	}
}

func getDeposit(r state.Reader, id uint64, who address.Address) (token.Amount, error) {
	var a token.Amount
	_, err := getOptional(r, govapi.DepositKeyOf(id, who), &a, "deposit")
	return a, err
}

func putDeposit(s *state.Overlay, id uint64, who address.Address, a token.Amount) {
	s.Set(govapi.DepositKeyOf(id, who), codec.MustMarshal(a))
}

func putVote(s *state.Overlay, id uint64, v govapi.VoteRecord) {
	s.Set(govapi.VoteKeyOf(id, v.Voter), codec.MustMarshal(v))
}

func getOptional(r state.Reader, key []byte, v any, what string) (bool, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := codec.Unmarshal(raw, v); err != nil {
		return false, govapi.ErrCorruptState.Wrapf("%s: %v", what, err)
	}
	return true, nil
}
