package keys

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
)

// Module is the chain's record of the key hierarchy.
type Module struct{}

var (
	_ module.Module        = Module{}
	_ module.EgressHandler = Module{}
)

// Name implements module.Module.
func (Module) Name() string { return keysapi.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: keysapi.MethodCreateCluster, Gas: keysapi.AdminGas, Authority: true, Handle: handleCreateCluster},
		{Name: keysapi.MethodAssignWorker, Gas: keysapi.AdminGas, Authority: true, Handle: handleAssignWorker},
		{Name: keysapi.MethodRotate, Gas: keysapi.AdminGas, Authority: true, Handle: handleRotate},
	}
}

// Genesis is the module's genesis section; it has no fields yet. The first
// master key generation is pending from genesis on.
type Genesis struct{}

// InitGenesis implements module.Module: the section must be an empty
// object, so a typo in a future field is not silently ignored.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("keys genesis: %w", err)
	}
	putStatus(ctx.Store, keysapi.MasterStatus{Pending: 1})
	return nil
}
