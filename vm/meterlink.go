package vm

import (
	"github.com/phala-go/phala/vm/meter"
)

const (
	gasGlobal      = meter.GasGlobal
	outOfGasGlobal = meter.OutOfGasGlobal
)

// instrument meters code with the one cost table and the engine's limits.
func instrument(code []byte, cfg Config) ([]byte, error) {
	l := meter.DefaultLimits()
	l.MaxCodeBytes = cfg.MaxCodeBytes
	l.MaxMemoryPages = cfg.MaxMemoryPages
	return meter.Instrument(code, meter.DefaultCosts(), l, []string{HostModule, WASIModule})
}

func errOutOfGasKind() error { return meter.ErrOutOfGas }

func outOfGas(limit uint64) error {
	return meter.ErrOutOfGas.Wrapf("gas limit %d", limit)
}

func stackOverflow() error {
	return meter.ErrStackOverflow.Wrapf("call depth over %d", meter.DefaultLimits().MaxCallDepth)
}
