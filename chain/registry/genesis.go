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
	var g registryapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("registry genesis: %w", err)
	}
	if err := g.Validate(); err != nil {
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
