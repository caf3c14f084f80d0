package vm

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkVM reports, in one run: loading a Go contract from the disk caches
// in a fresh engine (with and without the instrumented-code cache), instantiating it (_initialize), resetting it
// to its snapshot, a trivial call
// (raw wasm and through the Go SDK), a storage-heavy call, and a tight loop
// with and without metering.
func BenchmarkVM(b *testing.B) {
	ctx := context.Background()
	cacheDir := filepath.Join(tempDir(), "bench-cache")
	code := probeCode(b)
	warm := newEngine(b, Config{CacheDir: cacheDir})
	m := loadProbe(b, warm) // fills the disk cache

	// load_from_cache is a worker restart: a fresh engine, the metered code
	// from the instrumented-code cache, the machine code from wazero's. It
	// also reports the cache read alone (prepare-ms); the rest is wazero's
	// CompileModule, which decodes and validates the module even on a hit.
	// load_remeter is the same without the instrumented-code cache.
	b.Run("load_from_cache", func(b *testing.B) {
		var prep time.Duration
		for b.Loop() {
			e, err := New(ctx, Config{CacheDir: cacheDir})
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if _, _, err := e.codes.instrument(code, sha256.Sum256(code)); err != nil {
				b.Fatal(err)
			}
			prep += time.Since(t0)
			if _, err := e.Load(ctx, code); err != nil {
				b.Fatal(err)
			}
			_ = e.Close(ctx)
		}
		b.ReportMetric(float64(prep.Microseconds())/1e3/float64(b.N), "prepare-ms/op")
	})
	b.Run("load_remeter", func(b *testing.B) {
		for b.Loop() {
			e, err := New(ctx, Config{CacheDir: cacheDir})
			if err != nil {
				b.Fatal(err)
			}
			e.codes = nil
			if _, err := e.Load(ctx, code); err != nil {
				b.Fatal(err)
			}
			_ = e.Close(ctx)
		}
	})
	b.Run("instantiate", func(b *testing.B) {
		for b.Loop() {
			inst := m.NewInstance(testEnv(nil))
			if err := inst.Start(ctx, Call{}); err != nil {
				b.Fatal(err)
			}
			_ = inst.Close(ctx)
		}
	})
	// reset_snapshot is what the first command of every block pays: the
	// command reactor restored to its state after _initialize (one copy of
	// the memory), timed alone; each pass dirties it with a trivial call.
	b.Run("reset_snapshot", func(b *testing.B) {
		inst := m.NewInstance(testEnv(nil))
		c := Call{Input: msg("noop", struct{}{}), GasLimit: gasLimit}
		var reset time.Duration
		for b.Loop() {
			if _, err := inst.Call(ctx, c); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if err := inst.Reset(ctx); err != nil {
				b.Fatal(err)
			}
			reset += time.Since(t0)
		}
		b.ReportMetric(float64(reset.Microseconds())/float64(b.N), "reset-µs/op")
		b.ReportMetric(float64(len(inst.command.fresh.mem)>>10), "memory-KiB")
	})
	b.Run("trivial_call_raw", func(b *testing.B) {
		raw, err := warm.Load(ctx, rawModule(bodyNop))
		if err != nil {
			b.Fatal(err)
		}
		benchCalls(b, raw.NewInstance(testEnv(nil)), Call{GasLimit: 1000})
	})
	b.Run("trivial_call_sdk", func(b *testing.B) {
		benchCalls(b, m.NewInstance(testEnv(nil)), Call{Input: msg("noop", struct{}{}), GasLimit: gasLimit})
	})
	b.Run("storage_100_writes_scan", func(b *testing.B) {
		benchCalls(b, m.NewInstance(testEnv(nil)), Call{Input: msg("fill", map[string]int{"n": 100}), GasLimit: gasLimit})
	})
	b.Run("tight_loop_1e6", func(b *testing.B) {
		plain := newEngine(b, Config{CacheDir: cacheDir, unmeteredForTests: true})
		pm, err := plain.Load(ctx, code)
		if err != nil {
			b.Fatal(err)
		}
		c := Call{Input: msg("spin", map[string]int{"n": 1_000_000}), GasLimit: 1 << 40}
		metered, unmetered := m.NewInstance(testEnv(nil)), pm.NewInstance(testEnv(nil))
		_ = metered.Start(ctx, c)
		_ = unmetered.Start(ctx, c)
		var tm, tu time.Duration
		best := [2]time.Duration{time.Hour, time.Hour} // metered, unmetered
		var gas uint64
		for b.Loop() {
			t0 := time.Now()
			res, err := metered.Call(ctx, c)
			t1 := time.Now()
			_, err2 := unmetered.Call(ctx, c)
			t2 := time.Now()
			if err != nil || err2 != nil {
				b.Fatal(err, err2)
			}
			tm, tu = tm+t1.Sub(t0), tu+t2.Sub(t1)
			best = [2]time.Duration{min(best[0], t1.Sub(t0)), min(best[1], t2.Sub(t1))}
			gas = res.GasUsed
		}
		n := float64(b.N)
		b.ReportMetric(float64(tm.Nanoseconds())/n, "metered-ns/op")
		b.ReportMetric(float64(tu.Nanoseconds())/n, "unmetered-ns/op")
		// The ratio of the fastest runs: the alternation already exposes
		// both to the same load, the minimum drops what a shared machine
		// adds to either.
		b.ReportMetric(float64(best[0])/float64(best[1]), "overhead-x")
		b.ReportMetric(float64(tm)/float64(tu), "mean-overhead-x")
		b.ReportMetric(float64(gas), "gas/op")
	})
}

func benchCalls(b *testing.B, inst *Instance, c Call) {
	ctx := context.Background()
	if err := inst.Start(ctx, c); err != nil {
		b.Fatal(err)
	}
	var gas uint64
	for b.Loop() {
		res, err := inst.Call(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		gas = res.GasUsed
	}
	b.ReportMetric(float64(gas), "gas/op")
}
