package registry

import (
	"bytes"
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// handleEndpoint records the public API URL an active node published,
// replacing its previous one. The URL's form is checked, not whether
// anything answers there: clients check what answers by its signatures.
func handleEndpoint(ctx *module.Context, from module.EgressSender, payload []byte) error {
	e, err := registryapi.DecodeEndpoint(payload)
	if err != nil {
		return err
	}
	n, ok, err := getNode(ctx.Store, from.IdentityKey)
	if err != nil {
		return err
	}
	if !ok || !n.Active {
		return registryapi.ErrUnknownIdentity.Wrapf("no active node %x", []byte(from.IdentityKey))
	}
	rec := registryapi.EndpointRecord{IdentityKey: bytes.Clone(from.IdentityKey), URL: e.URL, Height: ctx.Height}
	ctx.Store.Set(registryapi.EndpointKeyOf(from.IdentityKey), codec.MustMarshal(rec))
	ctx.Emit(registryapi.EventEndpoint, module.A("identity", fmt.Sprintf("%x", []byte(from.IdentityKey))),
		module.A("role", n.Role.String()), module.A("url", e.URL))
	return nil
}

// GetEndpoint reads a node's endpoint; ok is false if it published none.
func GetEndpoint(r state.Reader, identityKey []byte) (registryapi.EndpointRecord, bool, error) {
	raw, err := r.Get(registryapi.EndpointKeyOf(identityKey))
	if err != nil || raw == nil {
		return registryapi.EndpointRecord{}, false, err
	}
	var e registryapi.EndpointRecord
	if err := codec.Unmarshal(raw, &e); err != nil {
		return e, false, registryapi.ErrCorruptState.Wrapf("endpoint of %x: %v", identityKey, err)
	}
	return e, true, nil
}
