package meter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func BenchmarkInstrumentGo(b *testing.B) {
	wasm := buildGoContract(b)
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, err := Instrument(wasm, DefaultCosts(), DefaultLimits(), testAllowed); err != nil {
			b.Fatal(err)
		}
	}
}

// loopModule is a tight arithmetic loop: sum of i*i for i < n.
func loopModule() []byte {
	m := &tModule{
		types: []funcType{{params: []byte{valI32}, results: []byte{valI64}}},
		funcs: []tFunc{{typ: 0, groups: 1, locals: []byte{1, valI64}, code: cat(
			loopE,
			lget(1), lget(0), []byte{0xad}, lget(0), []byte{0xad}, []byte{0x7e}, []byte{0x7c}, lset(1), // acc += n*n
			lget(0), i32c(1), []byte{opI32Sub}, ltee(0), brIf(0),
			end, lget(1), end)}},
		exports: []tExport{{"loop", 0, 0}},
	}
	return m.bytes()
}

const loopN = 1_000_000

// loopFunc instantiates the loop module, metered or not, and returns a
// call that runs it once.
func loopFunc(b *testing.B, rt wazero.Runtime, wasm []byte, metered bool) func() {
	ctx := context.Background()
	if metered {
		var err error
		if wasm, err = Instrument(wasm, DefaultCosts(), DefaultLimits(), nil); err != nil {
			b.Fatal(err)
		}
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(fmt.Sprint(metered)))
	if err != nil {
		b.Fatal(err)
	}
	fn := mod.ExportedFunction("loop")
	var gas api.MutableGlobal
	if metered {
		gas = mod.ExportedGlobal(GasGlobal).(api.MutableGlobal)
	}
	return func() {
		if gas != nil {
			gas.Set(1 << 62)
		}
		if _, err := fn.Call(ctx, loopN); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLoop(b *testing.B, metered bool) {
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	run := loopFunc(b, rt, loopModule(), metered)
	for b.Loop() {
		run()
	}
}

func BenchmarkTightLoopPlain(b *testing.B)   { benchLoop(b, false) }
func BenchmarkTightLoopMetered(b *testing.B) { benchLoop(b, true) }

// BenchmarkMeteringOverhead alternates plain and metered runs of the same
// loop, so load on a shared machine hits both alike, and reports the
// ratio of their fastest runs: a 13-instruction loop body (sum of squares)
// and the 5-instruction countdown, a worst case.
func BenchmarkMeteringOverhead(b *testing.B) {
	b.Run("sum-of-squares", func(b *testing.B) { overhead(b, loopModule()) })
	countdownOnly := &tModule{types: []funcType{tI32I32}, funcs: []tFunc{countdown},
		exports: []tExport{{"loop", 0, 0}}}
	b.Run("countdown", func(b *testing.B) { overhead(b, countdownOnly.bytes()) })
}

func overhead(b *testing.B, wasm []byte) {
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	plain, metered := loopFunc(b, rt, wasm, false), loopFunc(b, rt, wasm, true)
	best := [2]time.Duration{time.Hour, time.Hour}
	for b.Loop() {
		for i, run := range []func(){plain, metered} {
			t0 := time.Now()
			run()
			best[i] = min(best[i], time.Since(t0))
		}
	}
	b.ReportMetric(float64(best[0].Nanoseconds())/loopN, "plain-ns/iter")
	b.ReportMetric(float64(best[1].Nanoseconds())/loopN, "metered-ns/iter")
	b.ReportMetric(float64(best[1])/float64(best[0]), "overhead-x")
}

// BenchmarkGoWorkOverhead: metering overhead on real Go code (maps,
// strconv, allocation) rather than a synthetic loop.
func BenchmarkGoWorkOverhead(b *testing.B) {
	wasm := buildGoContract(b)
	out, err := Instrument(wasm, DefaultCosts(), DefaultLimits(), testAllowed)
	if err != nil {
		b.Fatal(err)
	}
	plain, metered := goInstance(b, wasm, false), goInstance(b, out, false)
	ctx := context.Background()
	if _, err := plain.mod.ExportedFunction("_initialize").Call(ctx); err != nil {
		b.Fatal(err)
	}
	metered.call("_initialize", 1<<50)
	best := [2]time.Duration{time.Hour, time.Hour}
	for b.Loop() {
		t0 := time.Now()
		if _, err := plain.mod.ExportedFunction("work").Call(ctx, 2000); err != nil {
			b.Fatal(err)
		}
		best[0] = min(best[0], time.Since(t0))
		t0 = time.Now()
		if o := metered.call("work", 1<<50, 2000); o.err != nil {
			b.Fatal(o.err)
		}
		best[1] = min(best[1], time.Since(t0))
	}
	b.ReportMetric(float64(best[1])/float64(best[0]), "overhead-x")
}
