package vm

import (
	"bytes"
	"context"
	"testing"

	"github.com/phala-go/phala/vm/meter"
)

// state reads the command reactor's memory and state globals.
func state(t *testing.T, inst *Instance) ([]byte, []uint64) {
	t.Helper()
	r := inst.command
	if r == nil {
		t.Fatal("no reactor")
	}
	mem, _ := r.mod.Memory().Read(0, r.mod.Memory().Size())
	var globals []uint64
	for k := 0; k < int(r.mod.ExportedGlobal(meter.StateCountGlobal).Get()); k++ {
		globals = append(globals, r.mod.ExportedGlobal(meter.StateGlobalName(k)).Get())
	}
	return append([]byte(nil), mem...), globals
}

// TestResetRestoresFreshState: after calls and a Reset, the command
// reactor is the same reactor (restored, not instantiated again) with
// exactly the memory and globals of one that has only run _initialize.
func TestResetRestoresFreshState(t *testing.T) {
	ctx := context.Background()
	m := loadProbe(t, newEngine(t, Config{}))
	used, fresh := m.NewInstance(testEnv(nil)), m.NewInstance(testEnv(nil))
	for _, inst := range []*Instance{used, fresh} {
		if err := inst.Start(ctx, Call{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range []Call{
		{Input: msg("fill", map[string]int{"n": 50})},
		{Input: msg("spin", map[string]int{"n": 1000})},
		{Input: msg("set", kv{Key: "a", Value: "b"})},
	} {
		in.GasLimit = gasLimit
		if _, err := used.Call(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	before := used.command
	memUsed, globalsUsed := state(t, used)
	memFresh, globalsFresh := state(t, fresh)
	if bytes.Equal(memUsed, memFresh) {
		t.Fatal("calls left the memory unchanged; the test proves nothing")
	}
	if err := used.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if used.command != before {
		t.Fatal("Reset instantiated again instead of restoring the snapshot")
	}
	memUsed, globalsUsed = state(t, used)
	if !bytes.Equal(memUsed, memFresh) {
		t.Fatal("memory after Reset differs from a fresh reactor's")
	}
	if len(globalsUsed) == 0 || !equalU64(globalsUsed, globalsFresh) {
		t.Fatalf("globals after Reset %v, fresh %v", globalsUsed, globalsFresh)
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGasPerBlock: the gas of a block's commands does not depend on what
// the instance ran in earlier blocks (or whether it ran at all, as for a
// worker restarted from a checkpoint), including after a block that grew
// the memory (which forces a new instantiation instead of a restore). It
// runs each block on a long-lived instance and on new instances in two
// other engines (one sharing the disk caches, one without them).
func TestGasPerBlock(t *testing.T) {
	ctx := context.Background()
	block := func(h int64) []Call {
		var calls []Call
		for _, in := range [][]byte{
			msg("fill", map[string]int{"n": 30}),
			msg("set", kv{Key: "k", Value: "v"}),
			msg("fill", map[string]int{"n": 30}),
			msg("spin", map[string]int{"n": 500}),
		} {
			calls = append(calls, Call{Input: in, Height: h, Time: h * 1e9, GasLimit: gasLimit})
		}
		return calls
	}
	run := func(inst *Instance, calls []Call) []uint64 {
		var gas []uint64
		for _, c := range calls {
			res, err := inst.Call(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			gas = append(gas, res.GasUsed)
		}
		return gas
	}
	cacheDir := t.TempDir()
	long := loadProbe(t, newEngine(t, Config{CacheDir: cacheDir})).NewInstance(testEnv(nil))
	var want [][]uint64
	for h := int64(1); h <= 4; h++ {
		before := long.command
		want = append(want, run(long, block(h)))
		switch h {
		case 2: // end the block with a grown memory
			if _, err := long.Call(ctx, Call{Input: msg("alloc", map[string]int{"n": 8}), Height: h, GasLimit: gasLimit}); err != nil {
				t.Fatal(err)
			}
		case 3:
			if long.command == before {
				t.Fatal("a grown memory was restored instead of instantiated again")
			}
		case 4:
			if long.command != before {
				t.Fatal("the reactor was instantiated again instead of restored")
			}
		}
	}
	// Without the reset the test would show nothing: the same call costs
	// differently later in a block.
	if want[0][0] == want[0][2] {
		t.Fatalf("both fill calls of a block used %d: history no longer shows in gas, so this test proves nothing", want[0][0])
	}
	for _, cfg := range []Config{{CacheDir: cacheDir}, {}} {
		m := loadProbe(t, newEngine(t, cfg))
		for h := int64(1); h <= 4; h++ {
			restarted := m.NewInstance(testEnv(nil))
			if got := run(restarted, block(h)); !equalU64(got, want[h-1]) {
				t.Fatalf("block %d (cache %q): a new instance used %v, the long-lived one %v", h, cfg.CacheDir, got, want[h-1])
			}
			_ = restarted.Close(ctx)
		}
	}
}
