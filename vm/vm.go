// Package vm runs confidential contracts: WebAssembly modules built from Go
// (GOOS=wasip1, -buildmode=c-shared) on wazero in compiler mode, metered by
// vm/meter's bytecode instrumentation, against the host ABI in ABI.md.
//
// An Engine compiles (with a compile cache on disk), a Module is one loaded
// contract code, an Instance is one contract's running reactor: it is
// initialised once and reused between calls, and replaced by a fresh one
// after a call that trapped. Every call runs with a gas limit and returns the
// gas it used, also when it fails.
package vm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/tetratelabs/wazero"
)

// Config sets the engine's limits. Zero fields take the defaults.
type Config struct {
	// CacheDir holds wazero's compilation cache and the instrumented code
	// (see codecache.go); "" keeps the former in memory and the latter
	// nowhere.
	CacheDir string
	// MaxCodeBytes bounds the size of a contract module.
	MaxCodeBytes int
	// MaxMemoryPages bounds a contract's linear memory (64 KiB pages).
	MaxMemoryPages uint32
	// InitGas is the budget of a contract's _initialize (the Go runtime's
	// start-up), charged to no call.
	InitGas uint64
	// Host sizes.
	MaxInputBytes  int // call input
	MaxReturnBytes int // return_data and revert message
	MaxKeyBytes    int
	MaxValueBytes  int
	MaxEvents      int // per call
	MaxEventBytes  int // per event (topic + data + audience)
	MaxLogBytes    int // captured stdout/stderr per call; the rest is dropped
	MaxPayouts     int // pay calls per call
	MaxSends       int // send calls per call
	// MaxCallDepth bounds query_contract chains: a call at Call.Depth
	// MaxCallDepth cannot query another contract.
	MaxCallDepth int
	Costs        HostCosts
	HTTP         HTTPConfig
	// QueryReactors is the most queries one instance runs at once, each on
	// its own reactor (a Go runtime in its own memory); more wait. Enough
	// for every core is what parallelism needs; more only costs memory.
	QueryReactors int

	// unmeteredForTests runs modules without instrumentation. Only tests in
	// this package set it (before vm/meter existed); the product never does.
	unmeteredForTests bool
}

// HTTPConfig is the query-only http_get: an allow-list of hosts ("host" or
// "host:port"), a response size limit and a timeout. An empty list allows
// nothing.
type HTTPConfig struct {
	AllowHosts []string
	MaxBytes   int
	Timeout    time.Duration
	Client     *http.Client
}

// DefaultQueryReactors is Config.QueryReactors unless set: four, twice the
// cores of the machines this runs on, so queries never queue behind a
// reactor while a core is idle.
const DefaultQueryReactors = 4

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{
		MaxCodeBytes:   8 << 20,
		MaxMemoryPages: 1024, // 64 MiB
		InitGas:        200_000_000,
		MaxInputBytes:  1 << 20,
		MaxReturnBytes: 1 << 20,
		MaxKeyBytes:    1024,
		MaxValueBytes:  256 << 10,
		MaxEvents:      64,
		MaxEventBytes:  64 << 10,
		MaxLogBytes:    8 << 10,
		MaxPayouts:     16,
		MaxSends:       16,
		MaxCallDepth:   4,
		Costs:          DefaultHostCosts(),
		HTTP:           HTTPConfig{MaxBytes: 1 << 20, Timeout: 5 * time.Second},
		QueryReactors:  DefaultQueryReactors,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&c.MaxCodeBytes, d.MaxCodeBytes)
	setInt(&c.MaxInputBytes, d.MaxInputBytes)
	setInt(&c.MaxReturnBytes, d.MaxReturnBytes)
	setInt(&c.MaxKeyBytes, d.MaxKeyBytes)
	setInt(&c.MaxValueBytes, d.MaxValueBytes)
	setInt(&c.MaxEvents, d.MaxEvents)
	setInt(&c.MaxEventBytes, d.MaxEventBytes)
	setInt(&c.MaxLogBytes, d.MaxLogBytes)
	setInt(&c.MaxPayouts, d.MaxPayouts)
	setInt(&c.MaxSends, d.MaxSends)
	setInt(&c.MaxCallDepth, d.MaxCallDepth)
	setInt(&c.HTTP.MaxBytes, d.HTTP.MaxBytes)
	setInt(&c.QueryReactors, d.QueryReactors)
	if c.MaxMemoryPages == 0 {
		c.MaxMemoryPages = d.MaxMemoryPages
	}
	if c.InitGas == 0 {
		c.InitGas = d.InitGas
	}
	if c.Costs == (HostCosts{}) {
		c.Costs = d.Costs
	}
	if c.HTTP.Timeout <= 0 {
		c.HTTP.Timeout = d.HTTP.Timeout
	}
	if c.HTTP.Client == nil {
		c.HTTP.Client = &http.Client{Timeout: c.HTTP.Timeout}
	}
	return c
}

// Engine compiles and runs contracts. It is safe for concurrent use; each
// Instance runs one call at a time.
type Engine struct {
	cfg   Config
	rt    wazero.Runtime
	cache wazero.CompilationCache
	meter meterParams
	codes *codeCache   // nil without a CacheDir
	host  []hostModule // what registerHost served; Load checks imports against it
}

// New starts an engine with the host modules registered.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("vm: compile cache %s: %w", cfg.CacheDir, err)
		}
		cache = c
	} else {
		cache = wazero.NewCompilationCache()
	}
	mp := engineMeterParams(cfg)
	var codes *codeCache
	if cfg.CacheDir != "" && !cfg.unmeteredForTests {
		c, err := newCodeCache(filepath.Join(cfg.CacheDir, codeCacheDir), mp)
		if err != nil {
			_ = cache.Close(ctx)
			return nil, err
		}
		codes = c
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(cache).
		WithMemoryLimitPages(cfg.MaxMemoryPages).
		WithCloseOnContextDone(false) // gas, not wall time, ends a call
	e := &Engine{cfg: cfg, rt: wazero.NewRuntimeWithConfig(ctx, rc), cache: cache, meter: mp, codes: codes}
	if err := e.registerHost(ctx); err != nil {
		_ = e.Close(ctx)
		return nil, err
	}
	return e, nil
}

// Close releases the runtime and every instance it holds.
func (e *Engine) Close(ctx context.Context) error {
	err := e.rt.Close(ctx)
	return errors.Join(err, e.cache.Close(ctx))
}

// Module is a validated, instrumented and compiled contract code.
type Module struct {
	e        *Engine
	compiled wazero.CompiledModule
	// Hash is the sha256 of the code as uploaded (before instrumentation).
	Hash [32]byte
}

// Load validates, instruments and compiles code. Errors are deterministic
// and of kind ErrBadModule or a vm/meter kind.
func (e *Engine) Load(ctx context.Context, code []byte) (*Module, error) {
	if len(code) > e.cfg.MaxCodeBytes {
		return nil, ErrBadModule.Wrapf("code is %d bytes, limit %d", len(code), e.cfg.MaxCodeBytes)
	}
	hash := sha256.Sum256(code)
	inst, err := e.instrumented(code, hash)
	if err != nil {
		return nil, err
	}
	compiled, err := e.rt.CompileModule(ctx, inst)
	if err != nil {
		return nil, ErrBadModule.Wrapf("%v", firstLine(err.Error()))
	}
	if err := e.checkModule(compiled); err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	return &Module{e: e, compiled: compiled, Hash: hash}, nil
}

// codeCacheDir is the instrumented-code cache's directory under CacheDir,
// beside wazero's own.
const codeCacheDir = "phala-instrumented"

// instrumented merges and meters code, through the disk cache if any.
func (e *Engine) instrumented(code []byte, hash [32]byte) ([]byte, error) {
	switch {
	case e.cfg.unmeteredForTests:
		return mergeData(code), nil
	case e.codes == nil:
		return prepare(code, e.meter)
	}
	out, _, err := e.codes.instrument(code, hash)
	return out, err
}

// checkModule requires the reactor shape and only imports the host serves.
func (e *Engine) checkModule(m wazero.CompiledModule) error {
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		if !e.hostHas(mod, name, f.ParamTypes(), f.ResultTypes()) {
			return ErrBadModule.Wrapf("unknown import %s.%s", mod, name)
		}
	}
	exports := m.ExportedFunctions()
	if _, ok := exports["_initialize"]; !ok {
		return ErrBadModule.Wrapf("no _initialize export (build with -buildmode=c-shared)")
	}
	if _, ok := m.ExportedMemories()["memory"]; !ok {
		return ErrBadModule.Wrapf("no exported memory")
	}
	return nil
}

// Close releases the compiled code.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
