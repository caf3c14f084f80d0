package gov

import (
	"encoding/binary"
	"encoding/json"

	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// decodeQuery reads a query's CBOR data strictly; empty data is the zero
// value (the first page, say).
func decodeQuery(path string, data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	if err := codec.Unmarshal(data, v); err != nil {
		return module.ErrBadQuery.Wrapf("%s: %v", path, err)
	}
	return nil
}

// proposalOf answers the proposal query: while voting, with the tally as
// it would be counted on this state.
func proposalOf(r state.IterReader, id uint64) (govapi.ProposalInfo, error) {
	p, ok, err := GetProposal(r, id)
	if err == nil && !ok {
		err = module.ErrNotFound.Wrapf("no proposal %d", id)
	}
	if err != nil {
		return govapi.ProposalInfo{}, err
	}
	info := govapi.ProposalInfo{Proposal: p}
	if p.Status == govapi.StatusVoting {
		t, err := count(r, id)
		if err != nil {
			return info, err
		}
		info.Current = &t
	}
	return info, nil
}

// listProposals pages through proposals newest first: ids count down
// from Before (exclusive) or the newest.
func listProposals(r state.IterReader, q govapi.ListQuery) (govapi.ProposalList, error) {
	out := govapi.ProposalList{Proposals: []govapi.Proposal{}}
	limit := int(q.Limit)
	if limit == 0 || limit > govapi.MaxList {
		limit = govapi.MaxList
	}
	raw, err := r.Get(govapi.LastIDKey.Key())
	if err != nil || len(raw) != 8 {
		return out, err
	}
	next := binary.BigEndian.Uint64(raw)
	if q.Before != 0 && q.Before-1 < next {
		next = q.Before - 1
	}
	for ; next > 0; next-- {
		p, ok, err := GetProposal(r, next)
		if err != nil {
			return out, err
		}
		if !ok || (q.Status != 0 && p.Status != q.Status) {
			continue
		}
		if len(out.Proposals) == limit {
			out.More = true
			break
		}
		out.Proposals = append(out.Proposals, p)
	}
	return out, nil
}

// votesOf lists a proposal's votes in voter order.
func votesOf(r state.IterReader, id uint64) (govapi.VoteList, error) {
	out := govapi.VoteList{Votes: []govapi.VoteRecord{}}
	if _, ok, err := GetProposal(r, id); err != nil || !ok {
		if err == nil {
			err = module.ErrNotFound.Wrapf("no proposal %d", id)
		}
		return out, err
	}
	err := r.Iterate(govapi.VoteKey.Key(govapi.IDBytes(id)), func(_, v []byte) error {
		var rec govapi.VoteRecord
		if err := codec.Unmarshal(v, &rec); err != nil {
			return govapi.ErrCorruptState.Wrapf("vote: %v", err)
		}
		out.Votes = append(out.Votes, rec)
		return nil
	})
	return out, err
}

// paramsInfo answers the params query: governance's params, the unsafe
// dev admin if any, and every governable module's params with their
// current values as the module's own params query answers them.
func (m Module) paramsInfo(r state.IterReader) (govapi.ParamsInfo, error) {
	params, err := GetParams(r)
	if err != nil {
		return govapi.ParamsInfo{}, err
	}
	info := govapi.ParamsInfo{Params: params}
	if admin, ok, err := authority.UnsafeDevAdmin(r); err != nil {
		return info, err
	} else if ok {
		info.UnsafeDevAdmin = &admin
	}
	own, err := json.Marshal(params)
	if err != nil {
		return info, err
	}
	info.Governable = append(info.Governable, govapi.GovernableModule{
		Module: govapi.Name, Method: govapi.MethodSetParams, Params: m.GovernableParams(), Current: own,
	})
	for _, other := range m.Governed {
		g, ok := other.(module.Governed)
		if !ok {
			continue
		}
		current, err := other.Query(r, other.Name()+"/params", nil)
		if err != nil {
			return info, err
		}
		raw, err := json.Marshal(current)
		if err != nil {
			return info, err
		}
		info.Governable = append(info.Governable, govapi.GovernableModule{
			Module: other.Name(), Method: other.Name() + ".set_params", Params: g.GovernableParams(), Current: raw,
		})
	}
	return info, nil
}
