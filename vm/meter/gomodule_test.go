package meter

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// goContract is a small Go reactor using maps, strconv, floats and the
// allocator, so its wasm has Go's full instruction mix.
const goContract = `package main

import "strconv"

var total uint64
var table = map[string]int{}

//go:wasmexport work
func work(n uint32) uint64 {
	s := make([]byte, 0, 64)
	for i := uint32(0); i < n; i++ {
		total += uint64(i) * 3
		s = strconv.AppendUint(s[:0], total, 10)
		table[string(s)]++
	}
	f := float64(total) / 3.5
	return total + uint64(len(table)) + uint64(f)
}

//go:wasmexport recurse
func recurse(n uint32) uint32 {
	if n == 0 {
		return 0
	}
	return recurse(n-1) + 1
}

func main() {}
`

var (
	goWasmOnce sync.Once
	goWasm     []byte
	goWasmErr  error
)

// goContractBytes builds goContract with the standard toolchain, once per
// test binary.
func goContractBytes() ([]byte, error) {
	goWasmOnce.Do(func() { goWasm, goWasmErr = buildGo() })
	return goWasm, goWasmErr
}

func buildGo() ([]byte, error) {
	dir, err := os.MkdirTemp("", "meter-go-contract")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{"go.mod": "module example.com/c\n\ngo 1.24\n", "main.go": goContract}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(dir, "c.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, msg)
	}
	return os.ReadFile(out)
}

// buildGoContract skips the test when no Go toolchain can build wasip1.
func buildGoContract(t testing.TB) []byte {
	t.Helper()
	wasm, err := goContractBytes()
	if err != nil {
		t.Skipf("cannot build a Go wasip1 module: %v", err)
	}
	return wasm
}

// goInstance instantiates a (possibly instrumented) Go module with WASI.
func goInstance(t testing.TB, wasm []byte, interp bool) *instance {
	t.Helper()
	ctx := context.Background()
	rt := newRuntime(ctx, interp)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return &instance{rt: rt, mod: mod}
}

func TestGoModule(t *testing.T) {
	wasm := buildGoContract(t)
	out, err := Instrument(wasm, DefaultCosts(), DefaultLimits(), testAllowed)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	t.Logf("Go module %d bytes, instrumented %d bytes (+%.0f%%)", len(wasm), len(out),
		100*float64(len(out)-len(wasm))/float64(len(wasm)))

	// Reference results from the module as built.
	ctx := context.Background()
	plain := goInstance(t, wasm, true)
	if _, err := plain.mod.ExportedFunction("_initialize").Call(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := plain.mod.ExportedFunction("work").Call(ctx, 500)
	if err != nil {
		t.Fatal(err)
	}

	var gas [][2]uint64
	for run := 0; run < 3; run++ {
		// Run 0 uses the compiler (as the host does); runs 1 and 2 the
		// interpreter, an independent engine that must agree on gas.
		t0 := time.Now()
		in := goInstance(t, out, run > 0)
		t.Logf("run %d: compile+instantiate %v", run, time.Since(t0))
		init := in.call("_initialize", 1<<40)
		work := in.call("work", 1<<40, 500)
		if init.err != nil || work.err != nil {
			t.Fatalf("run %d: init %v, work %v", run, init.err, work.err)
		}
		if work.results[0] != want[0] {
			t.Fatalf("work = %d, uninstrumented %d", work.results[0], want[0])
		}
		deep := in.call("recurse", 1<<40, 1000)
		if deep.err != nil || deep.results[0] != 1000 {
			t.Fatalf("recurse(1000) = %v, %v", deep.results, deep.err)
		}
		gas = append(gas, [2]uint64{init.used, work.used})
		t.Logf("run %d: _initialize used %d gas, work(500) %d gas", run, init.used, work.used)

		spent := in.call("work", 10_000, 1_000_000)
		if !spent.oog {
			t.Fatalf("work with a small budget: %v, oog %v", spent.err, spent.oog)
		}
		// Go keeps goroutine stacks in linear memory and unwinds the wasm
		// stack when it grows one, so runaway Go recursion ends in the Go
		// runtime's own abort (a trap) once memory is capped, or in ours.
		if run > 0 {
			continue // the interpreter is slow to recurse a million frames
		}
		flood := in.call("recurse", 1<<40, 1<<30)
		t.Logf("unbounded recursion: overflow flag %v: %v", flood.overflow, firstLine(flood.err))
		if flood.err == nil {
			t.Fatal("unbounded recursion returned")
		}
	}
	for i := range gas {
		if gas[i] != gas[0] {
			t.Fatalf("gas differs between runs: %v", gas)
		}
	}
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
