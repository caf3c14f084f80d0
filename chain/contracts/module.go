// Package contracts is the chain side of confidential contracts: chunked
// code upload (the chain keeps a running SHA-256 and the final record,
// never the bytes, which go to enclaves on the message list),
// instantiation (which asks the gatekeepers for the contract's key through
// the keys module), encrypted commands (gas reserved into an escrow
// account, value moved to the contract's account, the sealed command
// published in chain order for the workers of the contract's cluster),
// the workers' results that settle them, and expiry (reserves of commands
// whose results never come back go back; unfinished uploads are dropped).
// See the package contractsapi for the wire form.
package contracts

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
)

// Module is the contracts module.
type Module struct {
	// Discrepancy, if set, is told of a worker whose results differ from
	// the settled ones (the compute module slashes it); the application
	// wires it, so contracts imports no other module.
	Discrepancy func(ctx *module.Context, worker []byte) error
}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return contractsapi.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: contractsapi.MethodUpload, Gas: contractsapi.UploadGas, Handle: handleUpload},
		{Name: contractsapi.MethodInstantiate, Gas: contractsapi.InstantiateGas, Handle: handleInstantiate},
		{Name: contractsapi.MethodCommand, Gas: contractsapi.CommandGas, Handle: handleCommand},
		{Name: contractsapi.MethodSetParams, Gas: contractsapi.SetParamsGas, Authority: true, Handle: setParams.Handle},
	}
}

// InitGenesis implements module.Module: params, read strictly, and the
// escrow account opened empty (bank.OpenModuleAccount).
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g contractsapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("contracts genesis: %w", err)
	}
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("contracts genesis: %w", err)
	}
	ctx.Store.Set(contractsapi.ParamsKey.Key(), codec.MustMarshal(g.Params))
	return bank.OpenModuleAccount(ctx.Store, contractsapi.Escrow)
}
