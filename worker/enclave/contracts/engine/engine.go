// Package engine builds the contracts module's VM (contracts.VM) on
// vm.Engine, with wazero's compile cache and the instrumented code on disk
// under a directory: the I/O the enclave's contracts module leaves to the
// runtime. The engine starts on the first Load, so enclaves that never run
// a contract (gatekeepers, tests of other modules) pay nothing.
package engine

import (
	"context"
	"sync"

	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/worker/enclave/contracts"
)

// VM is a lazily started vm.Engine.
type VM struct {
	cacheDir string

	mu     sync.Mutex
	engine *vm.Engine
}

var _ contracts.VM = (*VM)(nil)

// New is a VM whose compile cache lives in cacheDir ("": in memory).
func New(cacheDir string) *VM { return &VM{cacheDir: cacheDir} }

// Load implements contracts.VM.
func (v *VM) Load(ctx context.Context, code []byte) (contracts.Program, error) {
	v.mu.Lock()
	if v.engine == nil {
		e, err := vm.New(ctx, vm.Config{CacheDir: v.cacheDir})
		if err != nil {
			v.mu.Unlock()
			return nil, err
		}
		v.engine = e
	}
	e := v.engine
	v.mu.Unlock()
	m, err := e.Load(ctx, code)
	if err != nil {
		return nil, err
	}
	return program{m}, nil
}

// Close stops the engine, if it started.
func (v *VM) Close(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.engine == nil {
		return nil
	}
	err := v.engine.Close(ctx)
	v.engine = nil
	return err
}

type program struct{ m *vm.Module }

func (p program) NewInstance(env vm.Env) contracts.Instance { return p.m.NewInstance(env) }
