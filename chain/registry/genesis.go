package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
)

// Genesis is the registry's section of the genesis file.
type Genesis struct {
	// Admin may name gatekeepers and change the policy until governance
	// exists.
	Admin       address.Address `json:"admin"`
	Policy      attest.Policy   `json:"policy"`
	Params      Params          `json:"params"`
	Gatekeepers []Grant         `json:"gatekeepers"`
}

// DefaultGenesis accepts sim quotes only if allowSim: a development network
// does, a production one must not.
func DefaultGenesis(admin address.Address, allowSim bool, gatekeepers ...Grant) Genesis {
	p := attest.Policy{AllowSim: allowSim} // default statuses: UpToDate, SWHardeningNeeded
	return Genesis{Admin: admin, Policy: p, Params: DefaultParams(), Gatekeepers: gatekeepers}
}

// InitGenesis implements module.Module.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("registry genesis: %w", err)
	}
	if err := g.validate(); err != nil {
		return fmt.Errorf("registry genesis: %w", err)
	}
	ctx.Store.Set(adminKey.Key(), g.Admin[:])
	ctx.Store.Set(policyKey.Key(), codec.MustMarshal(g.Policy))
	ctx.Store.Set(paramsKey.Key(), codec.MustMarshal(g.Params))
	for _, gr := range g.Gatekeepers {
		putGrant(ctx, gr, true)
	}
	return nil
}

func (g Genesis) validate() error {
	if g.Admin.IsZero() {
		return fmt.Errorf("no admin")
	}
	if g.Params.ReattestSeconds <= 0 || g.Params.MaxAnchorAge <= 0 {
		return fmt.Errorf("params must be positive: %+v", g.Params)
	}
	if err := g.Policy.Validate(); err != nil {
		return err
	}
	for i, gr := range g.Gatekeepers {
		if err := gr.validate(); err != nil {
			return fmt.Errorf("gatekeeper %d: %w", i, err)
		}
	}
	return nil
}

func (g Grant) validate() error {
	hasKey, hasOp := len(g.IdentityKey) > 0, !g.Operator.IsZero()
	switch {
	case hasKey == hasOp:
		return fmt.Errorf("a gatekeeper grant names exactly one of identity_key and operator")
	case hasKey && len(g.IdentityKey) != ed25519.PublicKeySize:
		return fmt.Errorf("identity key is %d bytes, want %d", len(g.IdentityKey), ed25519.PublicKeySize)
	}
	return nil
}

func putGrant(ctx *module.Context, g Grant, allowed bool) {
	key := grantOperatorKeyOf(g.Operator)
	if len(g.IdentityKey) > 0 {
		key = grantKeyOf(g.IdentityKey)
	}
	if allowed {
		ctx.Store.Set(key, codec.MustMarshal(g))
	} else {
		ctx.Store.Delete(key)
	}
}
