// Package pools is the chain's stake pools: an owner creates a pool with a
// commission and a capacity and adds the workers it operates; delegators
// bring PHA for shares; the pool's free stake goes into the workers'
// computing sessions (through the compute module); their rewards are
// split between the owner's commission and the shares; undelegated shares
// wait in a queue for free stake, and a queue that waits beyond the grace
// period stops the pool's workers. See package poolsapi for the wire form
// and the ledger (ledger.go) for the arithmetic.
package pools

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/codec"
)

// Module is the stake pools module.
type Module struct{}

var (
	_ module.Module     = Module{}
	_ module.EndBlocker = Module{}
)

// Name implements module.Module.
func (Module) Name() string { return poolsapi.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: poolsapi.MethodCreate, Gas: poolsapi.AdminGas, Handle: handleCreate},
		{Name: poolsapi.MethodAddWorker, Gas: poolsapi.AdminGas, Handle: handleAddWorker},
		{Name: poolsapi.MethodRemoveWorker, Gas: poolsapi.AdminGas, Handle: handleRemoveWorker},
		{Name: poolsapi.MethodSetCommission, Gas: poolsapi.AdminGas, Handle: handleSetCommission},
		{Name: poolsapi.MethodSetCapacity, Gas: poolsapi.AdminGas, Handle: handleSetCapacity},
		{Name: poolsapi.MethodDelegate, Gas: poolsapi.DelegateGas, Handle: handleDelegate},
		{Name: poolsapi.MethodUndelegate, Gas: poolsapi.DelegateGas, Handle: handleUndelegate},
		{Name: poolsapi.MethodWithdraw, Gas: poolsapi.WithdrawGas, Handle: handleWithdraw},
		{Name: poolsapi.MethodSetParams, Gas: poolsapi.AdminGas, Authority: true, Handle: setParams.Handle},
	}
}

// InitGenesis implements module.Module: params, read strictly.
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g poolsapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("pools genesis: %w", err)
	}
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("pools genesis: %w", err)
	}
	ctx.Store.Set(poolsapi.ParamsKey.Key(), codec.MustMarshal(g.Params))
	return nil
}

func hexKey(k []byte) string { return hex.EncodeToString(k) }
