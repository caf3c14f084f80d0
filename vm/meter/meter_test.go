package meter

import (
	"testing"
)

// countdown(n) loops n times: entry segment {loop}=1, loop body
// {local.get, i32.const, i32.sub, local.tee, br_if}=5 per pass, tail
// {local.get}=1, so it costs 2+5n with Instruction=1.
var countdown = tFunc{typ: 0, code: cat(
	loopE, lget(0), i32c(1), []byte{opI32Sub}, ltee(0), brIf(0), end,
	lget(0), end)}

// gasModule exercises every charge kind. Function indices: 0 host_add
// (import), 1 countdown, 2 add2 (calls host_add), 3 grow, 4 fill, 5 copy,
// 6 spin (infinite loop), 7 recurse, 8 early (return from nested blocks).
func gasModule() *tModule {
	return &tModule{
		types:   []funcType{tI32I32, tVoidI32, tVoid},
		imports: []tImport{{"phala", "host_add", 0}},
		mem:     &limits{min: 1, max: 4, hasMax: true},
		funcs: []tFunc{
			countdown,
			{typ: 0, code: cat(lget(0), call(0), end)},
			{typ: 0, code: cat(lget(0), memGrow, end)},
			{typ: 0, code: cat(i32c(0), i32c(7), lget(0), memFill, i32c(0), end)},
			{typ: 0, code: cat(i32c(100), i32c(0), lget(0), memCopy, i32c(0), end)},
			{typ: 2, code: cat(loopE, br(0), end, end)},
			// recurse(n) = n == 0 ? 0 : recurse(n-1) + 1
			{typ: 0, code: cat(lget(0), []byte{opI32Eqz}, ifI32, i32c(0), elseOp,
				lget(0), i32c(1), []byte{opI32Sub}, call(7), i32c(1), []byte{opI32Add}, end, end)},
			// early(n): block { block { n; if n==0 return 7 } } ; 9
			{typ: 0, code: cat(blockE, blockE, lget(0), []byte{opI32Eqz}, []byte{0x04, blockEmpty},
				i32c(7), []byte{opReturn}, end, end, end, i32c(9), end)},
			// trapper(n): countdown loop, then an out-of-bounds load.
			{typ: 0, code: cat(loopE, lget(0), i32c(1), []byte{opI32Sub}, ltee(0), brIf(0), end,
				i32c(-1), []byte{0x28, 2, 0}, end)},
			// spin2(n): two segments per pass, the second one unchecked.
			{typ: 0, code: cat(loopE, blockE, lget(0), brIf(0), end, br(0), end, lget(0), end)},
			// skip(n): block { br_if 0 (n); 1; drop } 9: a branch targets the
			// block's end, so the tail starts a segment.
			{typ: 0, code: cat(blockE, lget(0), brIf(0), i32c(1), []byte{0x1a}, end, i32c(9), end)},
			// either(n): if n { return 5 } else {} 9: only the else branch
			// reaches the if's end, so the tail continues the else segment.
			{typ: 0, code: cat(lget(0), []byte{0x04, blockEmpty}, i32c(5), []byte{opReturn}, elseOp, end, i32c(9), end)},
		},
		exports: []tExport{
			{"countdown", 0, 1}, {"add2", 0, 2}, {"grow", 0, 3}, {"fill", 0, 4},
			{"copy", 0, 5}, {"spin", 0, 6}, {"recurse", 0, 7}, {"early", 0, 8}, {"trapper", 0, 9}, {"spin2", 0, 10},
			{"skip", 0, 11}, {"either", 0, 12}, {"mem", 2, 0},
		},
	}
}

func TestGasExact(t *testing.T) {
	in := instantiate(t, gasModule().bytes(), DefaultLimits(), false)
	c := testCosts
	tests := []struct {
		name   string
		fn     string
		arg    uint64
		want   uint64 // gas used
		result uint64
	}{
		{"loop 0", "countdown", 1, 2 + 5*1, 0},
		{"loop 10", "countdown", 10, 2 + 5*10, 0},
		{"loop 1000", "countdown", 1000, 2 + 5*1000, 0},
		{"host call", "add2", 5, 2 + c.CallBase, 1005},
		{"grow 2 pages", "grow", 2, 2 + 2*c.MemoryGrowPage, 1},
		{"grow past max still charged", "grow", 10, 2 + 10*c.MemoryGrowPage, 0xffffffff},
		{"fill 1000 bytes", "fill", 1000, 5 + 1000*c.BulkBytePer, 0},
		{"fill 0 bytes", "fill", 0, 5, 0},
		{"copy 64 bytes", "copy", 64, 5 + 64*c.BulkBytePer, 0},
		// recurse(n): per frame: entry seg {local.get, eqz, if} and the
		// then-branch {const} paid ahead with it = 4, else seg {local.get,
		// const, sub, call}=4+CallBase, after the call returns the segment
		// continues {const, add}=2; the base frame pays its entry seg only.
		{"recurse 3", "recurse", 3, 3*(4+4+c.CallBase+2) + 4, 3},
		// early(0): one segment {block, block, get, eqz, if, const, return}
		// = 7: blocks and an if's then-branch continue the segment.
		{"early return", "early", 0, 7, 7},
		// early(1): the same 7 paid ahead, the if skipped, then the tail
		// after the if's end (a join) {const}=1.
		{"fallthrough", "early", 1, 7 + 1, 9},
		// skip: {block, get, br_if, const, drop}=5 whichever way the br_if
		// goes (code after a br_if is paid ahead), then the tail {const}=1.
		{"branch to a block's end", "skip", 1, 5 + 1, 9},
		{"fall out of a block", "skip", 0, 5 + 1, 9},
		// either(1): {get, if, const, return}=4. either(0): the same 4 paid
		// ahead, then the else segment, which runs on into the tail: 1.
		{"then returns", "either", 1, 4, 5},
		{"else falls through", "either", 0, 4 + 1, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := in.call(tt.fn, 1<<40, tt.arg)
			if o.err != nil {
				t.Fatalf("call: %v", o.err)
			}
			if o.used != tt.want {
				t.Fatalf("gas used %d, want %d", o.used, tt.want)
			}
			if uint32(o.results[0]) != uint32(tt.result) {
				t.Fatalf("result %d, want %d", o.results[0], tt.result)
			}
			if o.depth != 0 || o.oog || o.overflow {
				t.Fatalf("after return: depth %d oog %v overflow %v", o.depth, o.oog, o.overflow)
			}
		})
	}
}

// TestGasDeterministic runs the same calls on fresh compiler and
// interpreter runtimes: gas must not depend on the engine or the run.
func TestGasDeterministic(t *testing.T) {
	wasm := gasModule().bytes()
	var first []uint64
	for run := 0; run < 4; run++ {
		in := instantiate(t, wasm, DefaultLimits(), run%2 == 1)
		var got []uint64
		for _, c := range []struct {
			fn  string
			arg uint64
		}{{"countdown", 777}, {"recurse", 50}, {"fill", 300}, {"grow", 1}, {"spin", 0}} {
			got = append(got, in.call(c.fn, 123456, c.arg).used)
		}
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if got[i] != first[i] {
				t.Fatalf("run %d call %d used %d, first run %d", run, i, got[i], first[i])
			}
		}
	}
}

// TestGasAtTrap: an ordinary trap leaves the gas global exact, so the host
// can bill what ran before it.
func TestGasAtTrap(t *testing.T) {
	in := instantiate(t, gasModule().bytes(), DefaultLimits(), false)
	for _, n := range []uint64{1, 10, 1000} {
		o := in.call("trapper", 1<<40, n)
		if o.err == nil || o.oog || o.overflow {
			t.Fatalf("trapper(%d): want a plain trap, got %v", n, o.err)
		}
		// {loop}=1, body 5 per pass, {i32.const, i32.load}=2.
		if want := 1 + 5*n + 2; o.used != want {
			t.Fatalf("trapper(%d) used %d, want %d", n, o.used, want)
		}
	}
}

func TestOutOfGas(t *testing.T) {
	in := instantiate(t, gasModule().bytes(), DefaultLimits(), false)
	tests := []struct {
		name string
		fn   string
		arg  uint64
		gas  uint64
	}{
		{"infinite loop", "spin", 0, 1_000_000},
		{"infinite loop, unchecked segment", "spin2", 1, 1_000_001},
		{"loop runs out", "countdown", 1000, 100},
		{"zero gas", "countdown", 1, 0},
		{"grow too dear", "grow", 1, 50},
		{"fill too dear", "fill", 1 << 20, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := in.call(tt.fn, tt.gas, tt.arg)
			if o.err == nil || !o.oog {
				t.Fatalf("want out-of-gas trap, got err %v oog %v", o.err, o.oog)
			}
			if o.used > tt.gas {
				t.Fatalf("used %d of %d", o.used, tt.gas)
			}
		})
	}
	// The instance keeps working after a trap once the host resets globals.
	if o := in.call("countdown", 1000, 3); o.err != nil || o.used != 17 {
		t.Fatalf("after trap: %v used %d", o.err, o.used)
	}
}

func TestCallDepth(t *testing.T) {
	l := DefaultLimits()
	l.MaxCallDepth = 100
	in := instantiate(t, gasModule().bytes(), l, false)
	// recurse(n) needs n+1 frames.
	if o := in.call("recurse", 1<<40, 99); o.err != nil || o.depth != 0 {
		t.Fatalf("99: %v depth %d", o.err, o.depth)
	}
	o := in.call("recurse", 1<<40, 100)
	if o.err == nil || !o.overflow || o.oog {
		t.Fatalf("100: want stack overflow trap, got %v overflow %v oog %v", o.err, o.overflow, o.oog)
	}
	// Unbounded recursion with default limits ends with overflow, not a crash.
	in = instantiate(t, gasModule().bytes(), DefaultLimits(), false)
	if o := in.call("recurse", 1<<40, 1<<30); !o.overflow {
		t.Fatalf("deep recursion: %v overflow %v", o.err, o.overflow)
	}
}

// TestIndicesPreserved checks that exports, tables and
// call_indirect still reach the same functions after helpers are added.
func TestIndicesPreserved(t *testing.T) {
	m := &tModule{
		types:   []funcType{tI32I32, tVoidI32, tVoid},
		imports: []tImport{{"phala", "host_add", 0}},
		table:   &limits{min: 3, max: 3, hasMax: true},
		elems:   [][]uint32{{2, 3, 0}},
		globals: [][]byte{cat([]byte{valI32, 1}, i32c(0), end)},
		funcs: []tFunc{
			{typ: 1, code: cat(i32c(11), end)},                             // 1
			{typ: 1, code: cat(i32c(22), end)},                             // 2
			{typ: 1, code: cat(i32c(33), end)},                             // 3
			{typ: 2, code: cat(i32c(44), gset(0), end)},                    // 4 start
			{typ: 0, code: cat(lget(0), []byte{0x11, 1, 0}, end)},          // 5 dispatch(i) via table
			{typ: 1, code: cat(gget(0), end)},                              // 6
			{typ: 0, code: cat(lget(0), i32c(2), []byte{0x11, 0, 0}, end)}, // 7 host via table
		},
		exports: []tExport{{"one", 0, 1}, {"two", 0, 2}, {"three", 0, 3}, {"dispatch", 0, 5},
			{"started", 0, 6}, {"viaTable", 0, 7}, {"imported", 0, 0}, {"init", 0, 4}},
	}
	m.elems = [][]uint32{{2, 3, 0}}
	in := instantiate(t, m.bytes(), DefaultLimits(), false)
	if o := in.call("init", 100); o.err != nil {
		t.Fatal(o.err)
	}
	tests := []struct {
		fn   string
		arg  []uint64
		want uint32
	}{
		{"one", nil, 11}, {"two", nil, 22}, {"three", nil, 33},
		{"dispatch", []uint64{0}, 22}, {"dispatch", []uint64{1}, 33},
		{"started", nil, 44}, {"viaTable", []uint64{1}, 1001}, {"imported", []uint64{1}, 1001},
	}
	for _, tt := range tests {
		o := in.call(tt.fn, 1<<30, tt.arg...)
		if o.err != nil || uint32(o.results[0]) != tt.want {
			t.Fatalf("%s%v = %v, %v; want %d", tt.fn, tt.arg, o.results, o.err, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestMultiValueReturn checks the wrapper block with several results and a
// return from inside nested blocks.
func TestMultiValueReturn(t *testing.T) {
	two := funcType{params: []byte{valI32}, results: []byte{valI32, valI64}}
	m := &tModule{
		types: []funcType{two},
		funcs: []tFunc{{typ: 0, code: cat(blockE, lget(0), []byte{0x04, blockEmpty},
			i32c(1), i64c(2), []byte{opReturn}, end, end, i32c(3), i64c(4), end)}},
		exports: []tExport{{"f", 0, 0}},
	}
	in := instantiate(t, m.bytes(), DefaultLimits(), false)
	for arg, want := range map[uint64][2]uint64{1: {1, 2}, 0: {3, 4}} {
		o := in.call("f", 1000, arg)
		if o.err != nil || o.results[0] != want[0] || o.results[1] != want[1] || o.depth != 0 {
			t.Fatalf("f(%d) = %v %v depth %d", arg, o.results, o.err, o.depth)
		}
	}
}

func TestMemoryCapped(t *testing.T) {
	l := DefaultLimits()
	l.MaxMemoryPages = 3
	m := gasModule()
	m.mem = &limits{min: 1} // no declared maximum
	in := instantiate(t, m.bytes(), l, false)
	if o := in.call("grow", 1<<30, 2); uint32(o.results[0]) != 1 {
		t.Fatalf("grow to cap: %v %v", o.results, o.err)
	}
	if o := in.call("grow", 1<<30, 1); int32(o.results[0]) != -1 {
		t.Fatalf("grow past cap = %d, want -1", int32(o.results[0]))
	}
}

// TestOutputStable: the same input gives the same bytes, so code hashes
// and compile caches keyed on the instrumented module are stable.
func TestOutputStable(t *testing.T) {
	wasm := gasModule().bytes()
	a, err := Instrument(wasm, testCosts, DefaultLimits(), testAllowed)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := Instrument(wasm, testCosts, DefaultLimits(), testAllowed)
		if err != nil || string(a) != string(b) {
			t.Fatalf("run %d differs (%v)", i, err)
		}
	}
}

// TestStateGlobalsExported: each mutable global of the module is exported
// under StateGlobalName, immutable ones are not, so the host can snapshot
// and restore the instance's whole state.
func TestStateGlobalsExported(t *testing.T) {
	m := &tModule{
		types: []funcType{tI32I32},
		globals: [][]byte{
			cat([]byte{valI32, 0}, i32c(5), end), // 0 immutable
			cat([]byte{valI64, 1}, i64c(7), end), // 1 mutable
			cat([]byte{valI32, 1}, i32c(9), end), // 2 mutable
		},
		funcs:   []tFunc{{typ: 0, code: cat(lget(0), gset(2), gget(2), end)}},
		exports: []tExport{{"set", 0, 0}},
	}
	in := instantiate(t, m.bytes(), DefaultLimits(), false)
	if n := in.mod.ExportedGlobal(StateCountGlobal).Get(); n != 2 {
		t.Fatalf("%d state globals, want 2", n)
	}
	if g := in.mod.ExportedGlobal(StateGlobalName(2)); g != nil {
		t.Fatalf("a third state global")
	}
	if v := in.global(StateGlobalName(0)).Get(); v != 7 {
		t.Fatalf("state global 0 = %d, want global 1's 7", v)
	}
	if o := in.call("set", 1000, 42); o.err != nil || in.global(StateGlobalName(1)).Get() != 42 {
		t.Fatalf("set: %v, state global 1 = %d", o.err, in.global(StateGlobalName(1)).Get())
	}
}
