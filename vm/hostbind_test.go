package vm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/vm/abi"
	"github.com/tetratelabs/wazero/api"
)

func TestHostImplementsTable(t *testing.T) {
	if _, err := bindHost(abi.Functions, phalaImpls()); err != nil {
		t.Fatal(err)
	}
}

func TestBindHostRefusesDisagreement(t *testing.T) {
	nop := func(*callState, api.Module, []uint64, uint64) {}
	rows := []abi.Func{
		{Name: "get", Params: []abi.Param{{Name: "kptr", Kind: abi.Ptr}, {Name: "klen", Kind: abi.Len}}, Result: abi.Int32},
		{Name: "height", Result: abi.Int64},
	}
	good := func() map[string]hostImpl {
		return map[string]hostImpl{
			"get":    {sig(i32, i32), sig(i32), nop},
			"height": {nil, sig(i64), nop},
		}
	}
	tests := []struct {
		name string
		edit func(map[string]hostImpl)
		want string // "" means bound
	}{
		{"agree", func(map[string]hostImpl) {}, ""},
		{"row without implementation", func(m map[string]hostImpl) { delete(m, "height") }, "height: no implementation"},
		{"implementation without row", func(m map[string]hostImpl) { m["extra"] = hostImpl{nil, nil, nop} }, "extra: implemented but not in the table"},
		{"parameter count", func(m map[string]hostImpl) { m["get"] = hostImpl{sig(i32), sig(i32), nop} }, "get: table says"},
		{"parameter type", func(m map[string]hostImpl) { m["get"] = hostImpl{sig(i32, i64), sig(i32), nop} }, "get: table says"},
		{"result type", func(m map[string]hostImpl) { m["height"] = hostImpl{nil, sig(i32), nop} }, "height: table says"},
		{"missing result", func(m map[string]hostImpl) { m["height"] = hostImpl{nil, nil, nop} }, "height: table says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			impls := good()
			tt.edit(impls)
			fns, err := bindHost(rows, impls)
			if tt.want == "" {
				if err != nil || len(fns) != len(rows) {
					t.Fatalf("bindHost = %d functions, %v", len(fns), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("bindHost error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestHostGasFromTable calls every host function once with zeroed
// arguments (empty ranges, so nothing is copied) on an unmetered engine,
// where the gas used is the host's charges alone: the base cost plus the
// row's fixed cost. A row whose gas its implementation forgets fails here.
// A few rows copy a fixed size whatever the arguments (an amount), and a
// few refuse zeroed arguments, after charging their cost.
func TestHostGasFromTable(t *testing.T) {
	fixedBytes := map[string]uint64{"value": AmountBytes, "balance": AmountBytes}
	refusesZeroes := map[string]bool{"pay": true, "send": true, "query_contract": true}
	ctx := context.Background()
	e := newEngine(t, Config{unmeteredForTests: true})
	for _, row := range abi.Functions {
		t.Run(row.Name, func(t *testing.T) {
			params, results := wasmSignature(row)
			m, err := e.Load(ctx, callingModule(row.Name, params, results))
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.NewInstance(testEnv(NewMemStore())).Call(ctx, Call{GasLimit: 1_000_000})
			if err != nil && !(row.Name == "revert" && errors.Is(err, ErrReverted)) && !(refusesZeroes[row.Name] && errors.Is(err, ErrHostLimit)) {
				t.Fatal(err)
			}
			if want := e.cfg.Costs.Base + row.Gas + fixedBytes[row.Name]*e.cfg.Costs.PerByte; res.GasUsed != want {
				t.Fatalf("gas %d, want base %d + table %d", res.GasUsed, e.cfg.Costs.Base, row.Gas)
			}
		})
	}
}

// callingModule is a reactor whose phala_command calls phala.fnName once
// with zero arguments and drops the result.
func callingModule(fnName string, params, results []api.ValueType) []byte {
	valType := func(ts []api.ValueType) []byte {
		out := leb(uint32(len(ts)))
		for _, t := range ts {
			out = append(out, t) // api.ValueType is the binary encoding
		}
		return out
	}
	var body []byte
	for _, p := range params {
		if p == i64 {
			body = append(body, 0x42, 0) // i64.const 0
		} else {
			body = append(body, 0x41, 0) // i32.const 0
		}
	}
	body = append(body, 0x10, 0) // call the import
	if len(results) > 0 {
		body = append(body, 0x1a) // drop
	}
	body = append(body, 0x0b)
	fn := func(code []byte) []byte { b := append([]byte{0}, code...); return append(leb(uint32(len(b))), b...) }

	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, vec(
		append(append([]byte{0x60}, valType(params)...), valType(results)...),
		[]byte{0x60, 0, 0},
	))...)
	m = append(m, section(2, vec(append(append(name(HostModule), name(fnName)...), 0x00, 0x00)))...)
	m = append(m, section(3, vec([]byte{1}, []byte{1}))...)
	m = append(m, section(5, vec([]byte{0x01, 1, 4}))...)
	m = append(m, section(7, vec(
		append(name("memory"), 0x02, 0),
		append(name("_initialize"), 0x00, 1),
		append(name(ExportCommand), 0x00, 2),
	))...)
	return append(m, section(10, vec(fn([]byte{0x0b}), fn(body)))...)
}
