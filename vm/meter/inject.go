package meter

import "strconv"

// Instruction classes that matter to metering.
const (
	kPlain  = iota
	kBlock  // block, if: the body continues the segment
	kLoop   // loop: the body starts a new, checked segment (back edges land there)
	kElse   // ends the then-segment, starts the else-segment
	kEnd    // ends a segment if code after it can be reached another way
	kJump   // br, br_table, unreachable: control leaves the segment
	kReturn // rewritten to a br to the wrapper block
	kGrow   // memory.grow: pages charged at run time
	kBulk   // memory.copy, memory.fill: size charged at run time
	kCall   // call, call_indirect: Instruction + CallBase
)

// layout says where Instrument put the globals and helpers it adds. All of
// them sit after the module's own, so no existing index moves.
type layout struct {
	gas, oog, depth, overflow uint32 // global indices
	stateCount                uint32
	charge, grow, bulk        uint32 // function indices
	origFuncs, origGlobals    int
	origTypes                 int
}

// rewriter instruments one function body at a time.
type rewriter struct {
	m        *module
	c        Costs
	lim      Limits
	lay      layout
	bt       func(results []byte) []byte // block type for a result list
	out      []byte
	seg      []byte // current segment, emitted after its charge
	cost     uint64
	ctl      []frame // open blocks, loops and ifs of the original body
	dead     bool    // only a branch reaches here (after br, br_table, return, unreachable)
	segDepth int     // open blocks where the current segment (and its charge) starts
	gasL     uint32  // the added local that holds the gas while the body runs
	traps    bool    // the segment has an instruction that may trap or a call
	check    bool    // the segment starts a function or a loop body
}

// frame is an open block, loop or if, with what decides whether the code
// after its end must start a segment.
type frame struct {
	op       byte // 0x02 block, 0x03 loop, 0x04 if
	targeted bool // a branch leads to its end (never for a loop)
	hasElse  bool
	thenLive bool // the then-branch falls through into the end
}

// reachedOtherwise reports whether the code after f's end can be reached
// other than by falling out of the code just before it: by a branch to a
// block's end, or from an if whose other branch falls through too (or
// that has none).
func (f frame) reachedOtherwise() bool {
	return f.targeted || (f.op == 0x04 && (!f.hasElse || f.thenLive))
}

// cutAtEnd reports whether the code after f's end starts a segment: where
// it is reached otherwise, and after a loop, whose last segment runs on
// every pass while the code after it runs once.
func (f frame) cutAtEnd() bool { return f.op == 0x03 || f.reachedOtherwise() }

// body rewrites function body i (defined-function index).
func (w *rewriter) body(i int, code []byte) ([]byte, error) {
	typ := w.m.types[w.m.funcs[i]]
	r := &reader{b: code}
	w.out, w.seg, w.cost, w.ctl, w.dead, w.traps, w.check = w.out[:0], w.seg[:0], 0, w.ctl[:0], false, false, true
	groups := r.count()
	groupsStart := r.pos
	numLocals := w.locals(r, groups, uint64(len(typ.params)))
	if r.err != nil {
		return nil, errFunc(len(w.m.importFuncs)+i, r.err)
	}
	// Declare one more local group: the i64 gas local.
	w.gasL = uint32(numLocals)
	w.out = appendVec(w.out, groups+1)
	w.out = append(w.out, code[groupsStart:r.pos]...)
	w.out = append(w.out, 1, valI64)
	w.prologue()
	// block $ret (result R) block $oog block $body (result R)
	w.out = append(w.out, 0x02)
	w.out = append(w.out, w.bt(typ.results)...)
	w.out = append(w.out, 0x02, blockEmpty, 0x02)
	w.out = append(w.out, w.bt(typ.results)...)
	if err := w.instrs(r, numLocals); err != nil {
		return nil, errFunc(len(w.m.importFuncs)+i, err)
	}
	w.epilogue()
	return append([]byte(nil), w.out...), nil
}

func errFunc(idx int, err error) error { return &funcErr{idx: idx, err: err} }

// funcErr adds the function index to an error and keeps its kind.
type funcErr struct {
	idx int
	err error
}

func (e *funcErr) Error() string { return e.err.Error() + " (function " + strconv.Itoa(e.idx) + ")" }
func (e *funcErr) Unwrap() error { return e.err }

// locals reads the local declarations and returns params+locals.
func (w *rewriter) locals(r *reader, groups int, n uint64) uint64 {
	for g := 0; g < groups && r.err == nil && n <= uint64(w.lim.MaxLocals); g++ {
		n += uint64(r.u32())
		r.valType()
	}
	if r.err == nil && n > uint64(w.lim.MaxLocals) {
		r.err = ErrLimit.Wrapf("%d locals, limit %d", n, w.lim.MaxLocals)
	}
	return n
}

// instrs copies the instruction stream, cutting it into segments.
func (w *rewriter) instrs(r *reader, numLocals uint64) error {
	for !r.done() {
		start := r.pos
		class, err := w.decode(r, numLocals)
		if err != nil {
			return err
		}
		ins := r.b[start:r.pos]
		w.traps = w.traps || mayTrap(ins)
		switch class {
		case kBlock:
			w.add(ins)
			w.ctl = append(w.ctl, frame{op: ins[0]})
		case kLoop:
			w.add(ins)
			w.flush()
			w.check = true
			w.ctl = append(w.ctl, frame{op: ins[0]})
		case kElse:
			if len(w.ctl) == 0 || w.ctl[len(w.ctl)-1].op != 0x04 || w.ctl[len(w.ctl)-1].hasElse {
				return ErrMalformed.Wrapf("else outside an if")
			}
			f := &w.ctl[len(w.ctl)-1]
			f.hasElse, f.thenLive = true, !w.dead
			w.flush()
			w.out = append(w.out, ins...)
			w.dead = false
		case kEnd:
			if len(w.ctl) == 0 {
				w.flush()
				w.out = append(w.out, ins...)
				if r.pos != len(r.b) {
					return ErrMalformed.Wrapf("%d bytes after the function's end", len(r.b)-r.pos)
				}
				return nil
			}
			f := w.ctl[len(w.ctl)-1]
			if w.dead || f.cutAtEnd() {
				w.flush()
				w.out = append(w.out, ins...)
			} else {
				w.startSeg()
				w.seg = append(w.seg, ins...) // free, like else
			}
			w.ctl = w.ctl[:len(w.ctl)-1]
			w.dead = w.dead && !f.reachedOtherwise()
		case kJump:
			w.add(ins)
			w.flush()
			w.dead = true
		case kReturn:
			// return leaves through the wrapper so the epilogue runs.
			w.add(appendULEB([]byte{0x0c}, uint64(len(w.ctl))))
			w.flush()
			w.dead = true
		case kGrow:
			w.callReload(appendULEB([]byte{0x10}, uint64(w.lay.grow)))
			w.add(ins)
		case kBulk:
			w.callReload(appendULEB([]byte{0x10}, uint64(w.lay.bulk)))
			w.add(ins)
		case kCall:
			w.callReload(ins)
			w.cost += w.c.Instruction + w.c.CallBase
		default:
			w.add(ins)
		}
	}
	return ErrMalformed.Wrapf("function body not terminated by end")
}

// add appends an instruction to the segment and counts its cost.
func (w *rewriter) add(ins []byte) {
	w.startSeg()
	w.seg = append(w.seg, ins...)
	w.cost += w.c.Instruction
}

// startSeg notes the nesting depth where a segment's first instruction,
// and so its charge, goes: the charge's branch to $oog counts from there.
func (w *rewriter) startSeg() {
	if len(w.seg) == 0 {
		w.segDepth = len(w.ctl)
	}
}

// callReload appends a call and reloads the gas local from the global,
// which the callee (a function, a helper or the host) charged.
func (w *rewriter) callReload(ins []byte) {
	w.startSeg()
	w.seg = append(w.seg, ins...)
	w.seg = appendGlobalGet(w.seg, w.lay.gas)
	w.seg = appendLocal(w.seg, 0x21, w.gasL)
	w.traps = true
}

// flush emits the segment, preceded by its charge. Only segments that
// start a function or a loop body, call, or may trap check the budget;
// the others just subtract, so the local may dip below zero on an acyclic
// stretch of code but the next check (at the latest the next loop pass,
// call, trap-capable segment or function exit) traps. A checked segment
// that may trap or calls also stores the local to the global, so the
// global is exact and never negative wherever anyone can see it.
func (w *rewriter) flush() {
	switch {
	case w.check || w.traps:
		if w.cost > 0 || w.traps {
			w.out = w.appendCheckedCharge(w.out, w.segDepth, w.cost, w.traps)
		}
	case w.cost > 0:
		w.out = w.appendSub(w.out, w.cost)
		w.out = appendLocal(w.out, 0x21, w.gasL)
	}
	w.out = append(w.out, w.seg...)
	w.seg, w.cost, w.traps, w.check = w.seg[:0], 0, false, false
}

// mayTrap reports whether an instruction can trap: memory and table
// access, integer division, trapping float truncation, unreachable. Calls
// and bulk operations are covered by callReload.
func mayTrap(ins []byte) bool {
	switch op := ins[0]; {
	case op == 0x00, op == 0x25, op == 0x26:
		return true
	case op >= 0x28 && op <= 0x3e: // loads and stores
		return true
	case op >= 0x6d && op <= 0x70, op >= 0x7f && op <= 0x82: // div, rem
		return true
	case op >= 0xa8 && op <= 0xab, op >= 0xae && op <= 0xb1: // trunc
		return true
	}
	return false
}

func appendLocal(b []byte, op byte, l uint32) []byte {
	return appendULEB(append(b, op), uint64(l))
}

// appendCheckedCharge emits, on the gas local g (signed; the host sets
// the budget below 2^63):
//
//	br_if $oog (g <s cost)
//	g -= cost  (and gas = g when store is set)
//
// $oog is a block around the body whose end holds the only trap code, so
// a loop carries a compare and a branch out, nothing else. Keeping gas in
// a local keeps the global's load and store off a loop's critical path. An
// out-of-gas trap leaves the global stale: the host counts out of gas as
// the whole budget spent.
func (w *rewriter) appendCheckedCharge(b []byte, depth int, cost uint64, store bool) []byte {
	b = appendLocal(b, 0x20, w.gasL)
	b = append(b, 0x42)
	b = appendSLEB(b, int64(cost))
	b = append(b, 0x53, 0x0d) // i64.lt_s; br_if $oog
	b = appendULEB(b, uint64(depth+1))
	b = w.appendSub(b, cost)
	if !store {
		return appendLocal(b, 0x21, w.gasL)
	}
	b = appendLocal(b, 0x22, w.gasL)
	return appendGlobalSet(b, w.lay.gas)
}

// appendSub leaves g - cost on the stack.
func (w *rewriter) appendSub(b []byte, cost uint64) []byte {
	b = appendLocal(b, 0x20, w.gasL)
	b = append(b, 0x42)
	b = appendSLEB(b, int64(cost))
	return append(b, 0x7d) // i64.sub
}

// appendTrap sets a flag global to 1 and traps.
func appendTrap(b []byte, flag uint32) []byte {
	b = append(b, 0x41, 0x01)
	b = appendGlobalSet(b, flag)
	return append(b, 0x00)
}

func appendGlobalGet(b []byte, g uint32) []byte {
	return appendULEB(append(b, 0x23), uint64(g))
}

func appendGlobalSet(b []byte, g uint32) []byte {
	return appendULEB(append(b, 0x24), uint64(g))
}

// prologue: if depth >= max { overflow = 1; unreachable }; depth++;
// g = gas.
func (w *rewriter) prologue() {
	b := appendGlobalGet(w.out, w.lay.depth)
	b = append(b, 0x41)
	b = appendSLEB(b, int64(w.lim.MaxCallDepth))
	b = append(b, 0x4f, 0x04, blockEmpty) // i32.ge_u; if
	b = appendTrap(b, w.lay.overflow)
	b = append(b, 0x0b)
	b = appendGlobalGet(b, w.lay.depth)
	b = append(b, 0x41, 0x01, 0x6a) // i32.const 1; i32.add
	b = appendGlobalSet(b, w.lay.depth)
	b = appendGlobalGet(b, w.lay.gas)
	w.out = appendLocal(b, 0x21, w.gasL)
}

// epilogue follows the body's own end (which closes $body): check and
// store gas, depth--, and leave through $ret; the end of $oog is the
// out-of-gas trap.
//
//	br_if $oog (g <s 0); gas = g; depth--; br $ret
//	end $oog; oog = 1; unreachable
//	end $ret
func (w *rewriter) epilogue() {
	b := w.appendCheckedCharge(w.out, -1, 0, true) // $oog is the innermost label
	b = appendGlobalGet(b, w.lay.depth)
	b = append(b, 0x41, 0x01, 0x6b) // i32.const 1; i32.sub
	b = appendGlobalSet(b, w.lay.depth)
	b = append(b, 0x0c, 0x01, 0x0b) // br $ret; end $oog
	b = appendTrap(b, w.lay.oog)
	w.out = append(b, 0x0b, 0x0b) // end $ret; end of function
}
