package meter

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

var testAllowed = []string{"phala", "wasi_snapshot_preview1"}

// testCosts makes every kind of charge visible in hand-computed totals.
var testCosts = Costs{Instruction: 1, MemoryGrowPage: 100, BulkBytePer: 2, CallBase: 10}

// outcome is what one metered call did.
type outcome struct {
	used     uint64
	results  []uint64
	err      error
	oog      bool
	overflow bool
	depth    uint32
}

// instance is an instantiated instrumented module.
type instance struct {
	rt  wazero.Runtime
	mod api.Module
}

func newRuntime(ctx context.Context, interp bool) wazero.Runtime {
	cfg := wazero.NewRuntimeConfig()
	if interp {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	return wazero.NewRuntimeWithConfig(ctx, cfg)
}

// instantiate instruments wasm and instantiates it with a "phala" host
// module offering host_add(i32) i32.
func instantiate(t testing.TB, wasm []byte, l Limits, interp bool) *instance {
	t.Helper()
	out, err := Instrument(wasm, testCosts, l, testAllowed)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	return instantiateWith(t, out, interp)
}

// instantiateRaw instantiates an already instrumented module on the
// interpreter (fast to compile, for fuzzing).
func instantiateRaw(t testing.TB, out []byte) *instance { return instantiateWith(t, out, true) }

func instantiateWith(t testing.TB, out []byte, interp bool) *instance {
	t.Helper()
	ctx := context.Background()
	rt := newRuntime(ctx, interp)
	t.Cleanup(func() { rt.Close(ctx) })
	_, err := rt.NewHostModuleBuilder("phala").
		NewFunctionBuilder().WithFunc(func(x uint32) uint32 { return x + 1000 }).Export("host_add").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate instrumented module: %v", err)
	}
	return &instance{rt: rt, mod: mod}
}

func (in *instance) global(name string) api.MutableGlobal {
	return in.mod.ExportedGlobal(name).(api.MutableGlobal)
}

// call runs an export with a gas budget, the way the host will.
func (in *instance) call(name string, gas uint64, args ...uint64) outcome {
	for _, g := range []string{OutOfGasGlobal, StackOverflowGlobal, CallDepthGlobal} {
		in.global(g).Set(0)
	}
	in.global(GasGlobal).Set(gas)
	fn := in.mod.ExportedFunction(name)
	args = args[:min(len(args), len(fn.Definition().ParamTypes()))]
	res, err := fn.Call(context.Background(), args...)
	return outcome{
		used:     gas - in.global(GasGlobal).Get(),
		results:  res,
		err:      err,
		oog:      in.global(OutOfGasGlobal).Get() == 1,
		overflow: in.global(StackOverflowGlobal).Get() == 1,
		depth:    uint32(in.global(CallDepthGlobal).Get()),
	}
}
