package vm

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkVM reports, in one run: loading a Go contract from the disk caches
// in a fresh engine (with and without the instrumented-code cache), instantiating it (_initialize), a trivial call
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
		var gas uint64
		for b.Loop() {
			t0 := time.Now()
			res, err := metered.Call(ctx, c)
			t1 := time.Now()
			_, err2 := unmetered.Call(ctx, c)
			tu += time.Since(t1)
			tm += t1.Sub(t0)
			if err != nil || err2 != nil {
				b.Fatal(err, err2)
			}
			gas = res.GasUsed
		}
		n := float64(b.N)
		b.ReportMetric(float64(tm.Nanoseconds())/n, "metered-ns/op")
		b.ReportMetric(float64(tu.Nanoseconds())/n, "unmetered-ns/op")
		b.ReportMetric(float64(tm)/float64(tu), "overhead-x")
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
