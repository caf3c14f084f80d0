package meter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// TestSpecSuite runs the WebAssembly core spec test suite through the
// meter. Every module a script defines is instrumented; when the meter
// accepts it, the original runs in one wazero runtime and the instrumented
// module in another, and every command of the script runs against both:
// results must be what the spec expects and identical bit for bit between
// the two, traps must be the same trap. Every binary module the spec calls
// malformed or invalid must be refused, by the meter itself or, for what
// the meter leaves to the engine by design (operand types), by wazero
// compiling the instrumented output: nothing invalid may come out of the
// meter runnable.
//
// The suite is wast2json's output that wazero's own module ships; it is
// read from the module cache, not copied here. It runs on the interpreter
// and on the compiler (where wazero has one), each world and the suite's
// v1 and v2 with the suite's own feature sets.
func TestSpecSuite(t *testing.T) {
	root := specSuiteDir(t)
	host, err := os.ReadFile(filepath.Join(root, "testdata", "spectest.wasm"))
	if err != nil {
		t.Skipf("spec suite host module missing: %v", err)
	}
	for _, engine := range []struct {
		name   string
		config func() wazero.RuntimeConfig
	}{{"interpreter", wazero.NewRuntimeConfigInterpreter}, {"compiler", wazero.NewRuntimeConfig}} {
		t.Run(engine.name, func(t *testing.T) {
			total, start := newSpecStats(), time.Now()
			for _, suite := range []string{"v1", "v2"} {
				features := api.CoreFeaturesV1
				if suite == "v2" {
					features = api.CoreFeaturesV2
				}
				cfg := engine.config().WithCoreFeatures(features)
				t.Run(suite, func(t *testing.T) { runSpecSuite(t, filepath.Join(root, suite, "testdata"), cfg, host, total) })
			}
			// The refusal counts are the meter's alone: print them once.
			total.log(t, engine.name, time.Since(start), engine.name == "interpreter")
		})
	}
}

// runSpecSuite runs every script of a directory, two at a time (one per
// core), adding their counts to total.
func runSpecSuite(t *testing.T, dir string, cfg wazero.RuntimeConfig, host []byte, total *specStats) {
	for _, file := range specScripts(t, dir) {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			t.Parallel()
			r := newSpecRunner(t, dir, file, cfg, host)
			defer r.close()
			r.run()
			total.merge(r.st)
		})
	}
}

// specSuiteDir finds wazero's spectest directory in the module cache, or
// skips: the suite is large and is only read where it is already present.
func specSuiteDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tetratelabs/wazero").Output()
	if err != nil {
		t.Skipf("cannot locate the wazero module (go list: %v); spec suite skipped", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "internal", "integration_test", "spectest")
	if _, err := os.Stat(filepath.Join(dir, "v2", "testdata")); err != nil {
		t.Skipf("spec suite not in the module cache (%v); skipped", err)
	}
	return dir
}

func specScripts(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("spec suite: %v", err)
	}
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		t.Fatalf("spec suite: no scripts in %s", dir)
	}
	return files
}

// Gas budget and limits for the suite: the budget never runs out, and the
// limits are the spec's own bounds so that capping a declared maximum never
// changes what a script observes. MaxCallDepth sits below the engines' own
// limits (the interpreter's is 2000 frames) so runaway recursion is stopped
// by the meter's counter in the instrumented module, which is what the
// exhaustion tests should exercise; no script nests calls that deep.
const specGas = 1 << 62

func specLimits() Limits {
	return Limits{
		MaxCodeBytes:   64 << 20,
		MaxFunctions:   1 << 20,
		MaxGlobals:     1 << 20,
		MaxMemoryPages: maxPages,
		MaxTableSize:   1 << 27, // wazero's bound on a table's size
		MaxCallDepth:   1000,
		MaxLocals:      maxLocals,
	}
}

// specInstance is one module of a script in both worlds. gl are the
// instrumented module's metering globals. A stand-in is a module the meter
// refused, instantiated uninstrumented in both worlds (see standIn).
type specInstance struct {
	ref, met api.Module
	gl       [4]api.MutableGlobal // gas, out of gas, depth, stack overflow
	standIn  bool
}

// specRunner runs one script: a runtime for the originals and one for the
// instrumented modules, each with the spec's "spectest" host module.
type specRunner struct {
	t        *testing.T
	ctx      context.Context
	dir      string
	script   specScript
	config   wazero.RuntimeConfig
	ref, met wazero.Runtime
	allowed  []string
	named    map[string]*specInstance // by the script's $name; nil when refused
	last     *specInstance            // the latest module; nil when refused
	all      []*specInstance
	gone     map[string]bool // registered names of modules not instantiated
	st       *specStats
}

func newSpecRunner(t *testing.T, dir, file string, config wazero.RuntimeConfig, host []byte) *specRunner {
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	r := &specRunner{t: t, ctx: context.Background(), dir: dir, config: config,
		named: map[string]*specInstance{}, gone: map[string]bool{}, st: newSpecStats()}
	if err := json.Unmarshal(raw, &r.script); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	r.ref, r.met = r.newRuntime(host), r.newRuntime(host)
	r.allowed = r.importableNames()
	return r
}

// newRuntime makes a runtime with the spectest host module. The host is
// not instrumented: it stands for the host's own functions.
func (r *specRunner) newRuntime(host []byte) wazero.Runtime {
	rt := wazero.NewRuntimeWithConfig(r.ctx, r.config)
	if _, err := instantiateSpec(r.ctx, rt, host, "spectest"); err != nil {
		r.t.Fatalf("spectest host module: %v", err)
	}
	return rt
}

func (r *specRunner) close() {
	r.ref.Close(r.ctx)
	r.met.Close(r.ctx)
}

// importableNames is the allow list the meter gets: the spectest host and
// every name the script registers a module under. The host decides which
// modules contracts may import from; here it is whatever the script links.
func (r *specRunner) importableNames() []string {
	names := []string{"spectest"}
	for _, c := range r.script.Commands {
		if c.Type == "register" {
			names = append(names, c.As)
		}
	}
	return names
}

func instantiateSpec(ctx context.Context, rt wazero.Runtime, wasm []byte, name string) (api.Module, error) {
	return rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(name).WithStartFunctions())
}

func (r *specRunner) run() {
	cmds := r.script.Commands
	for i := 0; i < len(cmds); i++ {
		c := &cmds[i]
		switch c.Type {
		case "module":
			as := ""
			if i+1 < len(cmds) && cmds[i+1].Type == "register" && (cmds[i+1].Name == "" || cmds[i+1].Name == c.Name) {
				as = cmds[i+1].As
				i++
			}
			r.module(c, as)
		case "register":
			// wazero names an instance once, at instantiation.
			r.st.skip("register of a module other than the one just defined")
		case "assert_return", "action":
			r.assertReturn(c)
		case "assert_trap":
			r.assertTrap(c)
		case "assert_exhaustion":
			r.assertExhaustion(c)
		case "assert_malformed", "assert_invalid":
			r.assertRefused(c)
		case "assert_uninstantiable", "assert_unlinkable":
			r.assertNotInstantiable(c)
		default:
			r.failf(c, "unknown command type %q", c.Type)
		}
	}
}

func (r *specRunner) failf(c *specCommand, format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("%s:%d %s: %s", r.script.Source, c.Line, c.Type, fmt.Sprintf(format, args...))
}

func (r *specRunner) read(c *specCommand) []byte {
	b, err := os.ReadFile(filepath.Join(r.dir, c.Filename))
	if err != nil {
		r.failf(c, "%v", err)
	}
	return b
}

func (r *specRunner) instrument(wasm []byte) ([]byte, error) {
	return Instrument(wasm, DefaultCosts(), specLimits(), r.allowed)
}

// module defines a module in both worlds, instrumented in one, or, when
// the meter refuses it, as a stand-in in both, so the two worlds always
// hold the same modules.
func (r *specRunner) module(c *specCommand, as string) {
	inst := r.defineModule(c, as)
	r.last = inst
	if c.Name != "" {
		r.named[c.Name] = inst
	}
	if inst == nil && as != "" {
		r.gone[as] = true
	}
}

func (r *specRunner) defineModule(c *specCommand, as string) *specInstance {
	wasm := r.read(c)
	r.st.modules++
	out, err := r.instrument(wasm)
	if err != nil {
		r.st.refuse(err)
		return r.standIn(c, wasm, as)
	}
	if mod := r.importsGone(wasm); mod != "" {
		r.st.skip("module imports from a module neither world has")
		return nil
	}
	ref, err := instantiateSpec(r.ctx, r.ref, wasm, as)
	if err != nil {
		r.failf(c, "original module does not instantiate: %v", err)
		return nil
	}
	met, err := instantiateSpec(r.ctx, r.met, out, as)
	if err != nil {
		r.failf(c, "instrumented module does not instantiate, the original does: %v", err)
		return nil
	}
	r.st.accepted++
	inst := &specInstance{ref: ref, met: met}
	for i, name := range []string{GasGlobal, OutOfGasGlobal, CallDepthGlobal, StackOverflowGlobal} {
		inst.gl[i] = met.ExportedGlobal(name).(api.MutableGlobal)
	}
	r.all = append(r.all, inst)
	return inst
}

// standIn instantiates a module the meter refused, uninstrumented, in both
// worlds, like host code: scripts build on their modules' side effects
// (elements written into another module's table, data into its memory) and
// link later modules to them, so skipping it would make later expectations
// wrong. Commands on it run but count apart from the meter's assertions;
// it must link and instantiate alike in both worlds, since only its
// instrumented neighbours differ.
func (r *specRunner) standIn(c *specCommand, wasm []byte, as string) *specInstance {
	if mod := r.importsGone(wasm); mod != "" {
		return nil
	}
	ref, errRef := instantiateSpec(r.ctx, r.ref, wasm, as)
	met, errMet := instantiateSpec(r.ctx, r.met, wasm, as)
	if errRef != nil || errMet != nil {
		if (errRef == nil) != (errMet == nil) {
			r.failf(c, "refused module as a stand-in: original world %v, instrumented world %v", errRef, errMet)
		}
		r.st.skip("refused module that does not instantiate as a stand-in")
		return nil
	}
	r.st.standIns++
	return &specInstance{ref: ref, met: met, standIn: true}
}

// importsGone returns the name of a module wasm imports from that neither
// world has (refused by the meter and unable to stand in), or "".
func (r *specRunner) importsGone(wasm []byte) string {
	compiled, err := r.ref.CompileModule(r.ctx, wasm)
	if err != nil {
		return "" // instantiation reports it
	}
	defer compiled.Close(r.ctx)
	for _, f := range compiled.ImportedFunctions() {
		if mod, _, _ := f.Import(); r.gone[mod] {
			return mod
		}
	}
	return ""
}

// target is the instance an action names, or nil (and a skip counted)
// when there is none. Commands on a stand-in run too, since scripts build
// on their effects (a refused module growing an accepted one's memory),
// but count apart: they run original code in both worlds.
func (r *specRunner) target(c *specCommand) *specInstance {
	inst := r.last
	if c.Action.Module != "" {
		inst = r.named[c.Action.Module]
	}
	switch {
	case inst == nil:
		r.st.skip("command on a module the meter refused that could not stand in")
	case inst.standIn && usesV128(c):
		// Only wazero's SIMD would be tested; no meter is involved.
		r.st.skip("v128 command on a SIMD module the meter refused")
		return nil
	}
	return inst
}

func usesV128(c *specCommand) bool {
	for _, v := range append(append([]specValue(nil), c.Action.Args...), c.Expected...) {
		if v.Type == "v128" {
			return true
		}
	}
	return false
}

// specOutcome is what one invocation did in one world.
type specOutcome struct {
	results []uint64
	err     error
}

// trap is the trap's message without wazero's stack trace, which names
// functions and offsets and so differs between the worlds.
func (o specOutcome) trap() string {
	s := firstLine(o.err)
	return strings.TrimPrefix(s, "wasm error: ")
}

// invoke calls the action's export in both worlds, the instrumented one
// the way the host does: gas set, depth and flags cleared on every
// instance (a callee in another module charges its own globals).
func (r *specRunner) invoke(c *specCommand, inst *specInstance) (ref, met specOutcome, types []api.ValueType, ok bool) {
	args, err := argWords(c.Action.Args)
	if err != nil {
		r.failf(c, "%v", err)
		return ref, met, nil, false
	}
	fnRef, fnMet := inst.ref.ExportedFunction(c.Action.Field), inst.met.ExportedFunction(c.Action.Field)
	if fnRef == nil || fnMet == nil {
		r.failf(c, "no exported function %q (original %v, instrumented %v)", c.Action.Field, fnRef != nil, fnMet != nil)
		return ref, met, nil, false
	}
	ref.results, ref.err = fnRef.Call(r.ctx, args...)
	r.resetMetering()
	met.results, met.err = fnMet.Call(r.ctx, args...)
	r.checkMetering(c, inst, met.err == nil)
	return ref, met, fnRef.Definition().ResultTypes(), true
}

// count counts a checked command: an assertion about the meter, or one on
// a stand-in.
func (r *specRunner) count(inst *specInstance) {
	if inst.standIn {
		r.st.standInChecks++
	} else {
		r.st.assertions++
	}
}

// overflowed reports whether the meter's depth counter stopped the last
// call to inst (a stand-in has none).
func overflowed(inst *specInstance) bool { return !inst.standIn && inst.gl[3].Get() == 1 }

func (r *specRunner) resetMetering() {
	for _, in := range r.all {
		in.gl[0].Set(specGas)
		for _, g := range in.gl[1:] {
			g.Set(0)
		}
	}
}

// checkMetering checks the instrumented world's globals after a call: no
// instance ran out of gas or spent more than its budget, and after a
// return the called instance's depth is back to zero.
func (r *specRunner) checkMetering(c *specCommand, inst *specInstance, returned bool) {
	for _, in := range r.all {
		if gas := in.gl[0].Get(); gas > specGas {
			r.failf(c, "gas global %d above the budget %d (went negative)", gas, uint64(specGas))
		}
		if in.gl[1].Get() != 0 {
			r.failf(c, "out of gas with a budget of %d", uint64(specGas))
		}
	}
	if returned && !inst.standIn && inst.gl[2].Get() != 0 {
		r.failf(c, "call depth %d after a return", inst.gl[2].Get())
	}
}

func (r *specRunner) assertReturn(c *specCommand) {
	inst := r.target(c)
	if inst == nil {
		return
	}
	if c.Action.Type == "get" {
		r.assertGlobal(c, inst)
		return
	}
	want, err := parseSpecValues(c.Expected)
	if err != nil {
		r.failf(c, "expected values: %v", err)
		return
	}
	ref, met, types, ok := r.invoke(c, inst)
	if !ok {
		return
	}
	r.count(inst)
	if c.Type == "action" && ref.err != nil {
		// A bare action states no result; it must just behave the same.
		r.sameTrap(c, ref, met)
		return
	}
	r.checkResults(c, "original", ref, types, want)
	r.checkResults(c, "instrumented", met, types, want)
	r.sameResults(c, ref, met, types)
}

func (r *specRunner) checkResults(c *specCommand, world string, o specOutcome, types []api.ValueType, want []specWord) {
	if o.err != nil {
		r.failf(c, "%s %s: %v", world, c.Action.Field, o.err)
		return
	}
	if c.Type == "action" {
		return
	}
	if len(o.results) != len(want) {
		r.failf(c, "%s %s: %d results, want %d", world, c.Action.Field, len(o.results), len(want))
		return
	}
	for i, w := range want {
		if !w.matches(o.results[i]) {
			r.failf(c, "%s %s: result %d is %#x, want %+v", world, c.Action.Field, i, o.results[i], w)
		}
	}
}

func (r *specRunner) sameResults(c *specCommand, ref, met specOutcome, types []api.ValueType) {
	if ref.err != nil || met.err != nil || len(ref.results) != len(met.results) || len(types) != len(ref.results) {
		return // checkResults reported it
	}
	for i, t := range types {
		if !sameWord(t, ref.results[i], met.results[i]) {
			r.failf(c, "%s: result %d differs: original %#x, instrumented %#x", c.Action.Field, i, ref.results[i], met.results[i])
		}
	}
}

func (r *specRunner) assertGlobal(c *specCommand, inst *specInstance) {
	want, err := parseSpecValues(c.Expected)
	if err != nil || len(want) != 1 {
		r.failf(c, "expected value: %v", err)
		return
	}
	gRef, gMet := inst.ref.ExportedGlobal(c.Action.Field), inst.met.ExportedGlobal(c.Action.Field)
	if gRef == nil || gMet == nil {
		r.failf(c, "no exported global %q", c.Action.Field)
		return
	}
	r.count(inst)
	if !want[0].matches(gRef.Get()) || gRef.Get() != gMet.Get() {
		r.failf(c, "global %s: original %#x, instrumented %#x, want %+v", c.Action.Field, gRef.Get(), gMet.Get(), want[0])
	}
}

// specTraps maps the spec's trap texts to wazero's trap messages.
var specTraps = map[string]string{
	"out of bounds memory access":   "out of bounds memory access",
	"indirect call type mismatch":   "indirect call type mismatch",
	"indirect call":                 "indirect call type mismatch",
	"undefined element":             "invalid table access",
	"undefined":                     "invalid table access",
	"out of bounds table access":    "invalid table access",
	"integer overflow":              "integer overflow",
	"invalid conversion to integer": "invalid conversion to integer",
	"integer divide by zero":        "integer divide by zero",
	"unreachable":                   "unreachable",
	"null reference":                "null reference",
	"null function reference":       "null reference",
}

// wazeroTrap is wazero's message for the spec's trap text ("uninitialized
// element 7" and the like are the table's too).
func wazeroTrap(text string) (string, bool) {
	if strings.HasPrefix(text, "uninitialized") {
		return "invalid table access", true
	}
	msg, ok := specTraps[text]
	return msg, ok
}

func (r *specRunner) assertTrap(c *specCommand) {
	inst := r.target(c)
	if inst == nil {
		return
	}
	ref, met, _, ok := r.invoke(c, inst)
	if !ok {
		return
	}
	r.count(inst)
	if ref.err == nil {
		r.failf(c, "original %s returned, want trap %q", c.Action.Field, c.Text)
		return
	}
	if want, known := wazeroTrap(c.Text); !known {
		r.failf(c, "no wazero trap known for the spec's %q", c.Text)
	} else if ref.trap() != want {
		r.failf(c, "original %s trapped with %q, want %q", c.Action.Field, ref.trap(), want)
	}
	if overflowed(inst) {
		r.failf(c, "instrumented %s overflowed the call depth, want trap %q", c.Action.Field, c.Text)
	}
	r.sameTrap(c, ref, met)
}

func (r *specRunner) sameTrap(c *specCommand, ref, met specOutcome) {
	if met.err == nil || ref.trap() != met.trap() {
		r.failf(c, "%s: original trapped with %q, instrumented with %q (results %v)", c.Action.Field, ref.trap(), met.trap(), met.results)
	}
}

// assertExhaustion: the original exhausts wazero's stack; the instrumented
// module must stop too, by the meter's depth counter (flag set) or, were
// the meter's limit above the engine's, by the engine.
func (r *specRunner) assertExhaustion(c *specCommand) {
	inst := r.target(c)
	if inst == nil {
		return
	}
	ref, met, _, ok := r.invoke(c, inst)
	if !ok {
		return
	}
	r.count(inst)
	if ref.trap() != "stack overflow" {
		r.failf(c, "original %s: %v, want stack overflow", c.Action.Field, ref.err)
	}
	switch overflowed := overflowed(inst); {
	case met.err != nil && overflowed:
		r.st.exhaustedByMeter++
	case met.trap() == "stack overflow":
		r.st.exhaustedByEngine++
	default:
		r.failf(c, "instrumented %s: %v (overflow flag %v), want call stack exhausted", c.Action.Field, met.err, overflowed)
	}
}

// assertRefused: a module the spec calls malformed or invalid must never
// come out of the meter runnable. The meter refuses what it decodes
// (structure, indices, features); operand types it leaves to the engine,
// so what it passes must fail wazero's compilation.
func (r *specRunner) assertRefused(c *specCommand) {
	if c.ModuleType == "text" {
		r.st.skip(c.Type + " of a text module (no binary to instrument)")
		return
	}
	wasm := r.read(c)
	out, err := r.instrument(wasm)
	if err != nil {
		r.st.badRefusedByMeter[c.Type+" by "+specErrorKind(err)]++
		return
	}
	compiled, err := r.met.CompileModule(r.ctx, out)
	if err != nil {
		r.st.badRefusedByEngine[c.Type+": "+c.Text]++
		return
	}
	compiled.Close(r.ctx)
	if orig, err := r.ref.CompileModule(r.ctx, wasm); err == nil {
		orig.Close(r.ctx)
		// wazero itself accepts it: a gap of the engine, not the meter.
		r.st.engineAccepts[c.Type+": "+c.Text]++
		return
	}
	r.failf(c, "the spec calls it %q; wazero refuses the original but accepts the instrumented module", c.Text)
}

// assertNotInstantiable: a module that must fail to link or instantiate
// must fail the same way instrumented (or, where wazero deliberately
// instantiates it, succeed in both worlds). One the meter refuses still
// runs, uninstrumented in both worlds, for the side effects a failed
// instantiation leaves on the modules it imports (see standIn).
func (r *specRunner) assertNotInstantiable(c *specCommand) {
	wasm := r.read(c)
	r.st.modules++
	out, err := r.instrument(wasm)
	if err != nil {
		r.st.refuse(err)
		r.st.standIns++
		out = wasm
	} else {
		r.st.accepted++
		r.st.assertions++
	}
	ref, errRef := instantiateSpec(r.ctx, r.ref, wasm, "")
	met, errMet := instantiateSpec(r.ctx, r.met, out, "")
	if (errRef == nil) != (errMet == nil) {
		r.failf(c, "original instantiates: %v, instrumented: %v (want %q)", errRef, errMet, c.Text)
	}
	for _, m := range []api.Module{ref, met} {
		if m != nil {
			m.Close(r.ctx)
		}
	}
}

// specErrorKind names the meter's error kind of a refusal.
func specErrorKind(err error) string {
	for _, k := range []struct {
		name string
		kind error
	}{{"ErrMalformed", ErrMalformed}, {"ErrUnsupported", ErrUnsupported}, {"ErrImport", ErrImport}, {"ErrLimit", ErrLimit}} {
		if errors.Is(err, k.kind) {
			return k.name
		}
	}
	return "other: " + err.Error()
}

// specRefusalReason is a refusal's detail without the kind's own text and
// the function index, so equal reasons count together.
func specRefusalReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, " (function "); i > 0 {
		s = s[:i]
	}
	for _, k := range []error{ErrMalformed, ErrUnsupported, ErrImport, ErrLimit} {
		s = strings.TrimPrefix(s, k.Error()+": ")
	}
	if i := strings.Index(s, ": "); strings.HasPrefix(s, "import ") && i > 0 {
		s = "import: " + s[i+2:] // the names differ, the reason does not
	}
	return s
}

// specStats are the counts a script (or the whole suite) produced.
type specStats struct {
	mu                                  sync.Mutex
	modules, accepted, assertions       int
	standIns, standInChecks             int
	exhaustedByMeter, exhaustedByEngine int
	refusedByKind, refusedByReason      map[string]int
	badRefusedByMeter                   map[string]int // assert_malformed/invalid the meter refused, by kind
	badRefusedByEngine                  map[string]int // ... that wazero refused after the meter passed them, by spec text
	engineAccepts                       map[string]int // ... that wazero accepts even uninstrumented
	skipped                             map[string]int
}

func newSpecStats() *specStats {
	return &specStats{refusedByKind: map[string]int{}, refusedByReason: map[string]int{},
		badRefusedByMeter: map[string]int{}, badRefusedByEngine: map[string]int{},
		engineAccepts: map[string]int{}, skipped: map[string]int{}}
}

func (s *specStats) refuse(err error) {
	kind := specErrorKind(err)
	s.refusedByKind[kind]++
	s.refusedByReason[kind+": "+specRefusalReason(err)]++
}

func (s *specStats) skip(why string) { s.skipped[why]++ }

func (s *specStats) merge(o *specStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modules += o.modules
	s.accepted += o.accepted
	s.assertions += o.assertions
	s.standIns += o.standIns
	s.standInChecks += o.standInChecks
	s.exhaustedByMeter += o.exhaustedByMeter
	s.exhaustedByEngine += o.exhaustedByEngine
	for _, m := range [][2]map[string]int{{s.refusedByKind, o.refusedByKind}, {s.refusedByReason, o.refusedByReason},
		{s.badRefusedByMeter, o.badRefusedByMeter}, {s.badRefusedByEngine, o.badRefusedByEngine},
		{s.engineAccepts, o.engineAccepts}, {s.skipped, o.skipped}} {
		for k, n := range m[1] {
			m[0][k] += n
		}
	}
}

func (s *specStats) log(t *testing.T, engine string, took time.Duration, details bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("spec suite v1+v2 on the %s in %v: %d modules, %d accepted by the meter and run in both worlds, %d refused by design; %d assertions checked on both",
		engine, took.Round(time.Millisecond), s.modules, s.accepted, sum(s.refusedByKind), s.assertions)
	t.Logf("refused modules instantiated uninstrumented in both worlds as stand-ins for their side effects and exports: %d, commands on them checked (original code in both worlds): %d", s.standIns, s.standInChecks)
	t.Logf("call stack exhaustion stopped by the meter's depth counter %d, by the engine %d", s.exhaustedByMeter, s.exhaustedByEngine)
	if !details {
		return
	}
	logCounts(t, "refused by design, by kind", s.refusedByKind)
	logCounts(t, "refused by design, by reason", s.refusedByReason)
	logCounts(t, "malformed/invalid refused by the meter", s.badRefusedByMeter)
	logCounts(t, "malformed/invalid passed by the meter (operand types are the engine's), refused by wazero compiling the output", s.badRefusedByEngine)
	logCounts(t, "malformed/invalid that wazero accepts even uninstrumented (engine gap)", s.engineAccepts)
	logCounts(t, "skipped", s.skipped)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func logCounts(t *testing.T, title string, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d", title, sum(m))
	for _, k := range keys {
		fmt.Fprintf(&b, "\n\t%6d  %s", m[k], k)
	}
	t.Log(b.String())
}
