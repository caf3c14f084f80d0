package meter

import (
	"strconv"
	"strings"
)

// Names of the globals Instrument adds and exports. The host sets
// GasGlobal before a call and reads it after; it resets CallDepthGlobal and
// the two flags to 0 before each call, and after a trap reads the flags to
// tell out-of-gas and stack overflow from other traps.
const (
	GasGlobal           = "phala.gas_left"
	OutOfGasGlobal      = "phala.out_of_gas"
	StackOverflowGlobal = "phala.stack_overflow"
	CallDepthGlobal     = "phala.call_depth"
	// StateGlobalPrefix names the exports of the module's own mutable
	// globals, numbered 0..n-1 in index order (StateGlobalName), and
	// StateCountGlobal, an immutable i32, holds n. With tables and
	// segments immutable (table.set/grow/fill/copy/init, memory.init and
	// the drops are refused), memory and these globals are an instance's
	// whole state, so the host can snapshot and restore it.
	StateGlobalPrefix = "phala.state."
	StateCountGlobal  = "phala.state_count"
	// ReservedPrefix starts every name Instrument exports; a module's own
	// exports may not use it.
	ReservedPrefix = "phala."
)

// FormatVersion names the instrumentation Instrument produces. Bump it with
// any change that alters Instrument's output for some input (injected code,
// section layout, checks), so output cached under an older version (vm keeps
// instrumented modules on disk) is never reused.
//
// Version 4 refuses modules version 3 passed: malformed names (a custom
// section's, which version 3 dropped, turning a malformed module into a
// well-formed one), a data count without data, unknown tables and memory,
// over-aligned access, global.set of an immutable global, undeclared
// ref.func, global.get in constant expressions and typed select of other
// than one type.
const FormatVersion = 4

// Costs is the one cost table. All values are integers so metering is the
// same on every machine.
type Costs struct {
	Instruction    uint64 // per original instruction (end and else are free)
	MemoryGrowPage uint64 // per page requested by memory.grow, charged even if the grow fails
	BulkBytePer    uint64 // per byte of memory.copy and memory.fill
	CallBase       uint64 // extra per call and call_indirect
}

// DefaultCosts returns the cost table contracts run with.
func DefaultCosts() Costs {
	return Costs{Instruction: 1, MemoryGrowPage: 1024, BulkBytePer: 1, CallBase: 2}
}

// Limits bound what a module may declare. Exceeding one is an ErrLimit
// error at instrumentation, never a crash later.
type Limits struct {
	MaxCodeBytes   int    // size of the whole module in bytes
	MaxFunctions   int    // imported + defined functions
	MaxGlobals     int    // defined globals (imported globals are refused)
	MaxMemoryPages uint32 // initial pages above this are refused; the declared maximum is capped to it
	MaxTableSize   uint32 // same, for each table's elements
	// MaxCallDepth bounds nested wasm calls. It is enforced by the
	// instrumentation (a counter global), not by the engine, whose own
	// limit is in bytes and so varies with the compiler and CPU.
	MaxCallDepth uint32
	MaxLocals    uint32 // params + locals of one function (bounds frame size)
}

// DefaultLimits returns the limits contracts run with. They fit a Go
// c-shared contract (a few MB of code, thousands of functions).
func DefaultLimits() Limits {
	return Limits{
		MaxCodeBytes:   16 << 20,
		MaxFunctions:   50000,
		MaxGlobals:     1024,
		MaxMemoryPages: 2048, // 128 MiB
		MaxTableSize:   100000,
		MaxCallDepth:   4096,
		MaxLocals:      4096,
	}
}

// Caps on the configuration itself, so no product overflows 64 bits: a
// run-time charge is at most 2^32 units times 2^31.
const (
	maxStaticCost = 1 << 20
	maxDynCost    = 1 << 31
	maxCallDepth  = 1 << 20
	maxLocals     = 1 << 20
)

func (c Costs) check() error {
	if c.Instruction > maxStaticCost || c.CallBase > maxStaticCost ||
		c.MemoryGrowPage > maxDynCost || c.BulkBytePer > maxDynCost {
		return ErrCosts.Wrapf("cost too large: %+v", c)
	}
	return nil
}

func (l Limits) check() error {
	if l.MaxCodeBytes <= 0 || l.MaxFunctions <= 0 || l.MaxGlobals < 0 ||
		l.MaxMemoryPages > maxPages || l.MaxCallDepth == 0 || l.MaxCallDepth > maxCallDepth ||
		l.MaxLocals == 0 || l.MaxLocals > maxLocals {
		return ErrCosts.Wrapf("unusable limits: %+v", l)
	}
	return nil
}

// Instrument validates a module (only allowed features; function imports
// only from allowedImportModules), enforces limits, and returns a metered
// module. It never panics on any input. It checks structure, every index
// and the rules that need no operand stack, not operand types: the host's
// compiler validates those, and Instrument keeps a valid module valid.
func Instrument(wasm []byte, c Costs, l Limits, allowedImportModules []string) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(wasm) > l.MaxCodeBytes {
		return nil, ErrLimit.Wrapf("module is %d bytes, limit %d", len(wasm), l.MaxCodeBytes)
	}
	d := &decoder{lim: l, allowed: make(map[string]bool), m: &module{}}
	for _, name := range allowedImportModules {
		d.allowed[name] = true
	}
	if err := d.decodeModule(wasm); err != nil {
		return nil, err
	}
	for name := range d.m.exportNames {
		if strings.HasPrefix(name, ReservedPrefix) {
			return nil, ErrMalformed.Wrapf("module exports %q: the prefix %q is reserved", name, ReservedPrefix)
		}
	}
	return encode(d.m, c, l)
}

// StateGlobalName is the export name of the module's k-th mutable global.
func StateGlobalName(k int) string { return StateGlobalPrefix + strconv.Itoa(k) }
