package vm

import (
	"errors"
	"fmt"
	"slices"

	"github.com/phala-go/phala/vm/abi"
	"github.com/tetratelabs/wazero/api"
)

// hostImpl implements one row of abi.Functions. params and results are the
// stack it reads and writes, so a row and its implementation cannot
// disagree unnoticed; gas is the row's fixed cost, which run charges.
type hostImpl struct {
	params, results []api.ValueType
	run             func(st *callState, mod api.Module, stack []uint64, gas uint64)
}

// bindHost pairs every row with its implementation by name. It refuses a
// row without an implementation, an implementation without a row, and a
// signature that differs from the row's, so the host never serves
// something the SDK was not generated for.
func bindHost(rows []abi.Func, impls map[string]hostImpl) ([]hostFn, error) {
	var errs []error
	fns := make([]hostFn, 0, len(rows))
	served := map[string]bool{}
	for _, row := range rows {
		impl, ok := impls[row.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no implementation", row.Name))
			continue
		}
		served[row.Name] = true
		params, results := wasmSignature(row)
		if !slices.Equal(params, impl.params) || !slices.Equal(results, impl.results) {
			errs = append(errs, fmt.Errorf("%s: table says %v -> %v, implementation reads %v -> %v",
				row.Name, params, results, impl.params, impl.results))
			continue
		}
		fns = append(fns, hostFn{row.Name, params, results, bindGas(impl.run, row.Gas)})
	}
	for _, name := range sortedKeys(impls) {
		if !served[name] {
			errs = append(errs, fmt.Errorf("%s: implemented but not in the table", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return fns, nil
}

func bindGas(run func(*callState, api.Module, []uint64, uint64), gas uint64) func(*callState, api.Module, []uint64) {
	return func(st *callState, mod api.Module, stack []uint64) { run(st, mod, stack, gas) }
}

// wasmSignature is the row's signature as the runtime sees it.
func wasmSignature(row abi.Func) (params, results []api.ValueType) {
	for _, p := range row.Params {
		params = append(params, valueType(p.Kind))
	}
	if row.Result != abi.None {
		results = sig(valueType(row.Result))
	}
	return params, results
}

func valueType(k abi.Kind) api.ValueType {
	if k.Wasm() == "i64" {
		return i64
	}
	return i32
}

func sortedKeys(m map[string]hostImpl) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
