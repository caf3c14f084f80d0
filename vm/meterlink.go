package vm

import (
	"github.com/phala-go/phala/vm/meter"
)

const (
	gasGlobal      = meter.GasGlobal
	outOfGasGlobal = meter.OutOfGasGlobal
)

// meterParams is everything besides the code that decides Instrument's
// output; all of it is part of the instrumented-code cache key.
type meterParams struct {
	Costs   meter.Costs
	Limits  meter.Limits
	Imports []string
}

// engineMeterParams is the one cost table with the engine's limits.
func engineMeterParams(cfg Config) meterParams {
	l := meter.DefaultLimits()
	l.MaxCodeBytes = cfg.MaxCodeBytes
	l.MaxMemoryPages = cfg.MaxMemoryPages
	return meterParams{Costs: meter.DefaultCosts(), Limits: l, Imports: []string{HostModule, WASIModule}}
}

// prepare merges the data segments and meters the result.
func prepare(code []byte, p meterParams) ([]byte, error) {
	return meter.Instrument(mergeData(code), p.Costs, p.Limits, p.Imports)
}

func errOutOfGasKind() error { return meter.ErrOutOfGas }

func outOfGas(limit uint64) error {
	return meter.ErrOutOfGas.Wrapf("gas limit %d", limit)
}

func stackOverflow() error {
	return meter.ErrStackOverflow.Wrapf("call depth over %d", meter.DefaultLimits().MaxCallDepth)
}
