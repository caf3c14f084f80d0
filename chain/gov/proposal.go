package gov

import (
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
)

// proposalMethods are the proposal, deposit, vote and the module's own
// authority methods (params, treasury spends).
func proposalMethods() []module.Method { return nil }

// proposalQuery answers the proposal, votes and params queries.
func (m Module) proposalQuery(r state.IterReader, path string, data []byte) (any, error) {
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}
