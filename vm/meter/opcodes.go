package meter

// decode reads one instruction with its immediates, checks the indices it
// names against the module's original ranges (so no instruction can reach
// the globals and helpers Instrument appends), and classifies it.
func (w *rewriter) decode(r *reader, numLocals uint64) (int, error) {
	op := r.byte()
	class := kPlain
	switch {
	case op == 0x00:
		class = kJump
	case op == 0x01, op == 0x1a, op == 0x1b, op == 0xd1:
	case op == 0x02 || op == 0x04:
		w.blockType(r)
		class = kBlock
	case op == 0x03:
		w.blockType(r)
		class = kLoop
	case op == 0x05:
		class = kElse
	case op == 0x0b:
		class = kEnd
	case op == 0x0c:
		w.label(r)
		class = kJump
	case op == 0x0d:
		w.label(r)
	case op == 0x0e:
		n := r.count()
		for i := 0; i <= n && r.err == nil; i++ {
			w.label(r)
		}
		class = kJump
	case op == 0x0f:
		class = kReturn
	case op == 0x10:
		if f := r.u32(); r.err == nil && int(f) >= w.lay.origFuncs {
			r.fail("call to function %d out of range", f)
		}
		class = kCall
	case op == 0x11:
		w.typeIdx(r)
		w.tableIdx(r)
		class = kCall
	case op == 0x1c:
		if n := len(r.valTypes()); r.err == nil && n != 1 {
			r.fail("select with %d types: invalid result arity", n)
		}
	case op >= 0x20 && op <= 0x22:
		if l := r.u32(); r.err == nil && uint64(l) >= numLocals {
			r.fail("local %d out of range", l)
		}
	case op == 0x23 || op == 0x24:
		w.global(r, op == 0x24)
	case op == 0x25: // table.get
		w.tableIdx(r)
	case op == 0x26:
		r.err = ErrUnsupported.Wrapf("table.set: %s", stateOutsideMemory)
	case op >= 0x28 && op <= 0x3e:
		w.memarg(r, naturalAlign[op-0x28])
	case op == 0x3f:
		w.memIdx(r)
	case op == 0x40:
		w.memIdx(r)
		class = kGrow
	case op == 0x41:
		r.sleb(32)
	case op == 0x42:
		r.sleb(64)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op >= 0x45 && op <= 0xc4:
	case op == 0xd0:
		if t := r.byte(); r.err == nil && t != valFuncRef && t != valExternRef {
			r.fail("ref.null type 0x%02x", t)
		}
	case op == 0xd2:
		if f := r.u32(); r.err == nil && !w.m.declared[f] {
			r.fail("ref.func %d: undeclared function reference (not exported, in an element segment or a global)", f)
		}
	case op == 0xfc:
		class = w.prefixFC(r)
	default:
		if r.err == nil {
			return 0, unknownOp(op)
		}
	}
	return class, r.err
}

func unknownOp(op byte) error {
	switch op {
	case 0xfd:
		return ErrUnsupported.Wrapf("SIMD instruction (0xfd prefix)")
	case 0xfe:
		return ErrUnsupported.Wrapf("threads/atomics instruction (0xfe prefix)")
	case 0x12, 0x13:
		return ErrUnsupported.Wrapf("tail call instruction 0x%02x", op)
	case 0x06, 0x07, 0x08, 0x09, 0x18, 0x19, 0x1f:
		return ErrUnsupported.Wrapf("exception handling instruction 0x%02x", op)
	}
	return ErrMalformed.Wrapf("unknown opcode 0x%02x", op)
}

// prefixFC decodes the 0xfc group: saturating truncation, bulk memory and
// table instructions.
func (w *rewriter) prefixFC(r *reader) int {
	sub := r.u32()
	if r.err != nil {
		return kPlain
	}
	switch sub {
	case 0, 1, 2, 3, 4, 5, 6, 7: // iNN.trunc_sat_fMM_s/u
		return kPlain
	case 10: // memory.copy dst src
		w.memIdx(r)
		w.memIdx(r)
		return kBulk
	case 11: // memory.fill
		w.memIdx(r)
		return kBulk
	case 8, 9, 12, 13, 14, 15, 17: // memory.init, data.drop, table.init, elem.drop, table.copy, table.grow, table.fill
		r.err = ErrUnsupported.Wrapf("instruction 0xfc %d: %s", sub, stateOutsideMemory)
		return kPlain
	case 16: // table.size
		w.tableIdx(r)
		return kPlain
	}
	r.err = ErrUnsupported.Wrapf("instruction 0xfc %d", sub)
	return kPlain
}

// stateOutsideMemory says why table and segment mutation are refused.
const stateOutsideMemory = "contracts may change only memory and globals, so an instance can be reset to a snapshot"

// memIdx reads the memory index byte; only memory 0 exists, if the module
// defines it.
func (w *rewriter) memIdx(r *reader) {
	if b := r.byte(); r.err == nil && b != 0 {
		r.err = ErrUnsupported.Wrapf("memory index %d (multi-memory)", b)
	}
	w.needMemory(r)
}

func (w *rewriter) needMemory(r *reader) {
	if r.err == nil && len(w.m.mems) == 0 {
		r.fail("unknown memory 0: the module defines no memory")
	}
}

// naturalAlign is the log2 of the access width of each load and store,
// 0x28 (i32.load) to 0x3e (i64.store32): a memarg may not promise more.
var naturalAlign = [...]uint32{
	2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, // loads
	2, 3, 2, 3, 0, 1, 0, 1, 2, // stores
}

func (w *rewriter) memarg(r *reader, natural uint32) {
	align := r.u32()
	switch {
	case r.err != nil:
		return
	case align&0x40 != 0:
		r.err = ErrUnsupported.Wrapf("memarg with memory index (multi-memory)")
		return
	case align > natural:
		r.fail("alignment 2^%d larger than natural 2^%d", align, natural)
		return
	}
	r.u32() // offset (32-bit memories only)
	w.needMemory(r)
}

// tableIdx reads a table index; only the module's own tables exist
// (imported tables are refused).
func (w *rewriter) tableIdx(r *reader) {
	if t := r.u32(); r.err == nil && int(t) >= len(w.m.tables) {
		r.fail("unknown table %d", t)
	}
}

// global reads a global index: in the module's original range, so no
// instruction reaches the globals Instrument appends, and mutable when set.
func (w *rewriter) global(r *reader, set bool) {
	g := r.u32()
	switch {
	case r.err != nil:
	case int(g) >= w.lay.origGlobals:
		r.fail("global %d out of range", g)
	case set && w.m.globalsRaw[g][1] == 0:
		r.fail("global.set %d: global is immutable", g)
	}
}

// label reads a branch depth; it may name any open block or the function
// itself, never beyond (the wrapper block would otherwise make it valid).
func (w *rewriter) label(r *reader) {
	l := r.u32()
	switch n := len(w.ctl); {
	case r.err != nil:
	case int64(l) > int64(n):
		r.fail("branch depth %d beyond function", l)
	case int(l) < n:
		w.ctl[n-1-int(l)].targeted = w.ctl[n-1-int(l)].op != 0x03
	}
}

func (w *rewriter) typeIdx(r *reader) {
	if t := r.u32(); r.err == nil && int(t) >= w.lay.origTypes {
		r.fail("type index %d out of range", t)
	}
}

// blockType reads empty, a value type, or a type index (s33).
func (w *rewriter) blockType(r *reader) {
	if r.err != nil || r.pos >= len(r.b) {
		r.byte()
		return
	}
	switch c := r.b[r.pos]; c {
	case blockEmpty, valI32, valI64, valF32, valF64, valFuncRef, valExternRef:
		r.pos++
	case valV128:
		r.err = ErrUnsupported.Wrapf("v128 (SIMD) block type")
	default:
		if t := r.sleb(33); r.err == nil && (t < 0 || t >= int64(w.lay.origTypes)) {
			r.fail("block type %d invalid", t)
		}
	}
}
