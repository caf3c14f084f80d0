package registry

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
)

// InitGenesis implements module.Module.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	if err := refuseOldAdmin(raw); err != nil {
		return err
	}
	var g registryapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("registry genesis: %w", err)
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("registry genesis: %w", err)
	}
	ctx.Store.Set(policyKey.Key(), codec.MustMarshal(g.Policy))
	ctx.Store.Set(paramsKey.Key(), codec.MustMarshal(g.Params))
	for _, gr := range g.Gatekeepers {
		putGrant(ctx, gr, true)
	}
	return nil
}

// refuseOldAdmin explains a genesis written before governance: its
// registry admin is now the gov section's unsafe_dev_admin, which only a
// development chain may have.
func refuseOldAdmin(raw json.RawMessage) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("registry genesis: %w", err)
	}
	if _, ok := fields["admin"]; ok {
		return fmt.Errorf("registry genesis: \"admin\" is gone: privileged changes belong to governance; a development chain may name " +
			"its admin as gov.unsafe_dev_admin (development only: that key then needs no proposal)")
	}
	return nil
}

func putGrant(ctx *module.Context, g registryapi.Grant, allowed bool) {
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
