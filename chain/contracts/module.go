// Package contracts is the chain side of confidential contracts: chunked
// code upload (the chain keeps a running SHA-256 and the final record,
// never the bytes, which go to enclaves on the message list),
// instantiation (which asks the gatekeepers for the contract's key through
// the keys module) and encrypted commands (gas reserved into an escrow
// account, value moved to the contract's account, the sealed command
// published in chain order for the workers of the contract's cluster).
// Workers' results, refunds and payouts come later; see the package
// contractsapi for the wire form.
package contracts

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
)

// Module is the contracts module.
type Module struct{}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return contractsapi.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: contractsapi.MethodUpload, Gas: contractsapi.UploadGas, Handle: handleUpload},
		{Name: contractsapi.MethodInstantiate, Gas: contractsapi.InstantiateGas, Handle: handleInstantiate},
		{Name: contractsapi.MethodCommand, Gas: contractsapi.CommandGas, Handle: handleCommand},
	}
}

// InitGenesis implements module.Module: params, read strictly, and the
// escrow account opened empty (see openAccount).
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
	return openAccount(ctx, contractsapi.Escrow)
}

// openAccount creates a with a zero balance if it does not exist. The
// bank refuses to create an account with less than its minimum balance
// (against dust accounts); the module's own accounts (the escrow, each
// contract's) are created by the chain itself, once, so reserves and
// values of any size land in them. The record is the bank's Account in
// its wire form; the supply is unchanged.
func openAccount(ctx *module.Context, a address.Address) error {
	key := bankapi.AccountKeyOf(a)
	old, err := ctx.Store.Get(key)
	if err != nil || old != nil {
		return err
	}
	ctx.Store.Set(key, codec.MustMarshal(bankapi.Account{}))
	return nil
}
