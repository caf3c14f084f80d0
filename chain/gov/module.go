// Package gov is on-chain governance: proposals whose actions are other
// modules' Authority methods, deposits, votes weighted by PHA held plus
// PHA delegated in stake pools, and at the end of the voting period the
// tally and, for a passed proposal, the execution of its actions with
// authority.Gov as their sender. It also keeps the software upgrade plan
// that nodes stop at. See package govapi for the wire form.
package gov

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Module is the governance module. Governed lists the chain's other
// modules, for the params query (which params governance may change).
type Module struct {
	Governed []module.Module
}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return govapi.Name }

// Methods implements module.Module: proposals (proposal.go) and the
// upgrade plan (upgrade.go).
func (Module) Methods() []module.Method {
	return append(proposalMethods(), upgradeMethods()...)
}

// InitGenesis implements module.Module: params and, on a development
// chain, the unsafe dev admin; read strictly.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g govapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("gov genesis: %w", err)
	}
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("gov genesis: %w", err)
	}
	ctx.Store.Set(govapi.ParamsKey.Key(), codec.MustMarshal(g.Params))
	if g.UnsafeDevAdmin != nil {
		if g.UnsafeDevAdmin.IsZero() {
			return fmt.Errorf("gov genesis: unsafe_dev_admin is the zero address")
		}
		authority.SetUnsafeDevAdmin(ctx.Store, *g.UnsafeDevAdmin)
	}
	return nil
}

// Query implements module.Module.
func (m Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	if v, ok, err := m.upgradeQuery(r, path, data); ok {
		return v, err
	}
	return m.proposalQuery(r, path, data)
}
