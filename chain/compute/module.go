// Package compute is the chain side of the economy's computation: workers'
// performance scores (reported by their enclaves), computing sessions
// started with a stake from a stake pool and their states (computing,
// unresponsive, cooling down, ready again), the heartbeat challenge every
// block publishes and the answers workers send in their registry
// heartbeats, the gatekeepers' settlements paid out of the reward pool
// only (the pool's part to the stake pool, the rest to the treasury, never
// beyond the emission schedule), and slashing. See computeapi for the wire
// form and tokenomics for the formulas.
//
// Compute does not import the stake pools module: pools call its Go API
// (StartSession, StopSession, CurrentSession) and implement Pools, which
// the application injects into Module.
package compute

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
)

// Module is the compute module.
type Module struct {
	// Pools is the stake pools module; without it compute.start is
	// refused and settlements pay pools' accounts without telling anyone.
	Pools Pools
}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return computeapi.Name }

// Methods implements module.Module.
func (m Module) Methods() []module.Method {
	return []module.Method{
		{Name: computeapi.MethodStart, Gas: computeapi.StartGas, Handle: m.handleStart},
		{Name: computeapi.MethodStop, Gas: computeapi.StopGas, Handle: m.handleStop},
		{Name: computeapi.MethodSetParams, Gas: computeapi.SetParamsGas, Authority: true, Handle: setParams.Handle},
	}
}

// InitGenesis implements module.Module: params, read strictly and checked
// against the reward pool the bank's genesis funded (the whole schedule
// must fit in it), and the stake account opened empty. The economy's clock
// starts with the first session (a genesis file's time may be long before
// launch, and emission before anyone computes would pay no one).
func (Module) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g computeapi.Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("compute genesis: %w", err)
	}
	pool, err := bank.GetAccount(ctx.Store, bankapi.RewardPool)
	if err != nil {
		return err
	}
	if err := g.Params.Validate(pool.Balance); err != nil {
		return fmt.Errorf("compute genesis: %w", err)
	}
	ctx.Store.Set(computeapi.ParamsKey.Key(), codec.MustMarshal(g.Params))
	return bank.OpenModuleAccount(ctx.Store, computeapi.StakeAccount)
}
