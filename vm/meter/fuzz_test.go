package meter

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// validates reports whether wazero accepts wasm. The interpreter validates
// exactly like the compiler and compiles much faster.
func validates(wasm []byte) error {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	_, err := rt.CompileModule(ctx, wasm)
	return err
}

// FuzzInstrument: Instrument never panics; a module wazero accepts stays
// acceptable after instrumentation, and instrumentation never turns a
// module wazero rejects into one it accepts (that would mean an index
// escaped into the appended globals or helpers).
func FuzzInstrument(f *testing.F) {
	f.Add(gasModule().bytes())
	f.Add(loopModule())
	f.Add([]byte(nil))
	f.Add(append([]byte(nil), wasmHeader...))
	m := gasModule()
	m.table = &limits{min: 2}
	m.elems = [][]uint32{{1, 2}}
	m.data = [][]byte{[]byte("hello")}
	m.dataCnt = true
	m.globals = [][]byte{cat([]byte{valI64, 1}, i64c(-5), end)}
	m.custom = true
	f.Add(m.bytes())
	if wasm, err := goContractBytes(); err == nil {
		f.Add(wasm)
	}
	lim := DefaultLimits()
	lim.MaxCallDepth = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Instrument(data, testCosts, lim, testAllowed)
		if err != nil {
			var e interface{ Unwrap() error }
			if !errors.As(err, &e) {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		before, after := validates(data), validates(out)
		if before == nil && after != nil {
			t.Fatalf("valid module became invalid: %v", after)
		}
		// Custom sections are dropped, so errors in them (wazero checks the
		// name section) legitimately disappear.
		if before != nil && after == nil && !strings.Contains(before.Error(), "custom") {
			t.Fatalf("invalid module (%v) became valid", before)
		}
	})
}

// FuzzInstrumentBody fuzzes one function's instruction stream inside a
// valid module, where random bytes reach the rewriter far more often. A
// body that wazero accepts must stay valid, and running it under a small
// budget must end (result or trap) having spent no more than the budget.
func FuzzInstrumentBody(f *testing.F) {
	for _, fn := range gasModule().funcs {
		f.Add(fn.code)
	}
	f.Add(cat(blockE, loopE, lget(0), brIf(1), br(0), end, end, lget(0), end))
	f.Add(cat(lget(0), []byte{0x0e, 2, 0, 1, 0}, end))
	f.Fuzz(func(t *testing.T, code []byte) {
		m := gasModule()
		m.funcs[0].code = code
		wasm := m.bytes()
		out, err := Instrument(wasm, testCosts, DefaultLimits(), testAllowed)
		if err != nil {
			return
		}
		before, after := validates(wasm), validates(out)
		if (before == nil) != (after == nil) {
			t.Fatalf("validity changed: before %v, after %v", before, after)
		}
		if after != nil {
			return
		}
		in := instantiateRaw(t, out)
		const budget = 20000
		o := in.call("countdown", budget, 3)
		if o.used > budget { // also catches a negative global
			t.Fatalf("used %d of %d", o.used, budget)
		}
		if o.err == nil && o.depth != 0 {
			t.Fatalf("call depth %d after return", o.depth)
		}
	})
}
