// Package meter makes WebAssembly contracts metered: it decodes a module,
// checks that it uses only features contracts may use and fits the limits,
// and rewrites every function body so that running it spends gas from a
// global the host sets. Pure Go, no engine dependency, never panics on
// input.
//
// # Gas
//
// A function body is cut into segments where control can arrive from more
// than one place: at a loop header (back edges land there), after an else,
// after the end of a block that a branch targets or of an if (the skipped
// branch rejoins there), after a loop's end, and after br, br_table,
// return and unreachable. Everything else continues the current segment:
// a block's body, an if's then-branch (paid ahead with the code before the
// if), the code after br_if, the code after a block's end when only
// falling out of the block reaches it. Each segment starts by taking its
// static cost (Costs.Instruction per original instruction, end and else
// free, plus Costs.CallBase per call) from g, an i64 local added to every
// body and loaded from GasGlobal on entry and after every call (callees,
// helpers and host functions charge the global). Segments that start a
// function or a loop body, call, or may trap (memory or table access,
// division, trapping truncation, unreachable) check first:
//
//	br_if $oog (g <s cost)
//	g -= cost; gas = g   (the store only where it may trap or calls)
//
// and the others only subtract. $oog is a block around the whole body
// whose end is the only trap code (oog = 1; unreachable), so a loop pass
// carries a compare and a branch out, and the global's load and store stay
// off its critical path. g may dip below zero on an acyclic stretch of
// code, but every cycle passes a loop header or a function entry, and
// every exit checks, so the overrun is bounded by one stretch and always
// ends in the out-of-gas trap at a deterministic point. The global is
// never negative after a return and after any trap except out of gas,
// which leaves it stale (the host bills the whole budget). The host must
// set budgets below 2^63. The overhead is about 1.0x on tight wasm loops
// and 1.35x on a Go for loop (three segments per pass).
//
// Charges are paid ahead, never after: the instructions after a br_if and
// an if's then-branch are paid even when the branch skips them, so a
// segment's cost is bounded by its length and the gas used is the same on
// every run. A loop body pays on every pass and code after a loop or a
// join pays when it is reached. memory.grow, memory.copy and memory.fill
// call a helper that charges the size operand (pages times MemoryGrowPage,
// bytes times BulkBytePer) before the instruction runs, whether it then
// succeeds or not.
//
// Gas used is a function of the module, the cost table and the inputs
// only: the tests check that wazero's compiler and interpreter agree to the
// unit on hand-written modules and on a real Go c-shared module.
//
// # Call depth
//
// The engine's own stack limit is in bytes and depends on the compiler and
// CPU, so depth is counted by the instrumentation instead: each function
// increments CallDepthGlobal on entry (trapping with StackOverflowGlobal
// set at Limits.MaxCallDepth) and decrements it on exit. Every body is
// wrapped in a block of the function's result type and each return becomes
// a branch to it, so all exits pass the decrement. A trap leaves the
// counter raised: the host resets CallDepthGlobal and both flags to 0
// before every call. Limits.MaxLocals bounds each frame so MaxCallDepth
// frames stay far below the engine's byte limit. (Go code keeps goroutine
// stacks in linear memory and unwinds the wasm stack to grow them, so a
// runaway Go recursion usually ends in the Go runtime's own abort, a trap,
// once memory is capped.)
//
// # Index spaces
//
// The gas, flag and depth globals are appended after the module's globals,
// the three helpers after its functions, new types after its types, so no
// existing index moves: calls, exports, elements and tables are kept byte
// for byte. Every index an instruction, constant expression, element
// segment or export names is checked against the original ranges, so a
// module cannot reach the appended globals or helpers.
//
// # Features
//
// Allowed: the MVP, mutable globals, sign extension, non-trapping
// float-to-int, memory.copy and memory.fill, multi-value, reference types
// read-only (ref.null, ref.func, ref.is_null, table.get, table.size), and
// floats (Go's wasm output needs them). Refused: SIMD, threads/atomics and
// shared memory, tail calls, exception handling, multi-memory, memory64,
// extended constant expressions, imports other than functions from the
// allowed module names, a start section (it would run before the host can
// set gas; contracts are reactors that export _initialize), and whatever
// changes an instance's state outside its memory and globals (table.set,
// table.grow/fill/copy/init, elem.drop, memory.init, data.drop; Go never
// emits them). Memory and the mutable globals, each exported under
// StateGlobalName, are thus an instance's whole state: the host snapshots
// it after _initialize and restores it to reset the instance cheaply.
// Names starting with ReservedPrefix are Instrument's to export. Custom
// sections are dropped.
//
// Floats are deterministic in WebAssembly except for the bit pattern of a
// NaN produced by arithmetic, which follows the CPU. wazero has no NaN
// canonicalisation option, so the host must run contracts with one pinned
// wazero version on one architecture per cluster (amd64: SGX and TDX are
// x86-64 only), with api.CoreFeaturesV2 minus SIMD. Contracts that must
// agree across architectures should avoid observing NaN bits.
//
// Instrument checks the binary format (UTF-8 names, custom sections'
// included, and the data count), every index (types, functions, locals,
// globals, labels, tables, the memory) and the validation rules that need
// no operand stack: alignment, global mutability, declared function
// references, constant expressions (whose global.get may read only an
// imported global, and none can be imported). It does not type-check
// operands: the host compiles the result with wazero, which does. A module
// that wazero accepts stays acceptable after instrumentation (fuzzed), and
// TestSpecSuite runs the WebAssembly core spec suite (v1 and v2) through
// Instrument: instrumented modules give the spec's results and traps, and
// every module the spec calls malformed or invalid is refused, by
// Instrument or, for operand types only, by wazero on its output.
package meter
