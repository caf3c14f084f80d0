package meter

import (
	"errors"
	"testing"
)

func TestRejects(t *testing.T) {
	valid := gasModule().bytes()
	with := func(edit func(m *tModule)) []byte {
		m := gasModule()
		edit(m)
		return m.bytes()
	}
	limit := func(edit func(l *Limits)) Limits {
		l := DefaultLimits()
		edit(&l)
		return l
	}
	tests := []struct {
		name string
		wasm []byte
		lim  Limits
		kind error
	}{
		{"empty", nil, DefaultLimits(), ErrMalformed},
		{"not wasm", []byte("\x7fELF\x02\x01\x01\x00 not wasm at all"), DefaultLimits(), ErrMalformed},
		{"wrong version", []byte("\x00asm\x02\x00\x00\x00"), DefaultLimits(), ErrMalformed},
		{"truncated", valid[:len(valid)-3], DefaultLimits(), ErrMalformed},
		{"truncated header", valid[:6], DefaultLimits(), ErrMalformed},
		{"section size past end", append(append([]byte(nil), wasmHeader...), secType, 0xff, 0x01), DefaultLimits(), ErrMalformed},
		{"overlong LEB", append(append([]byte(nil), wasmHeader...), secType, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), DefaultLimits(), ErrMalformed},
		{"bad section order", sectionsSwapped(valid), DefaultLimits(), ErrMalformed},
		{"unknown section", append(append([]byte(nil), wasmHeader...), 13, 0), DefaultLimits(), ErrUnsupported},
		{"unknown import module", with(func(m *tModule) { m.imports[0].mod = "env" }), DefaultLimits(), ErrImport},
		{"SIMD", with(func(m *tModule) {
			m.funcs[0].code = cat([]byte{0xfd, 12}, make([]byte, 16), []byte{0x1a}, lget(0), end)
		}), DefaultLimits(), ErrUnsupported},
		{"SIMD local", with(func(m *tModule) { m.funcs[0].groups, m.funcs[0].locals = 1, []byte{1, valV128} }), DefaultLimits(), ErrUnsupported},
		{"atomics", with(func(m *tModule) { m.funcs[0].code = cat(i32c(0), []byte{0xfe, 0x10, 2, 0}, end) }), DefaultLimits(), ErrUnsupported},
		{"tail call", with(func(m *tModule) { m.funcs[0].code = cat(lget(0), []byte{0x12, 0}, end) }), DefaultLimits(), ErrUnsupported},
		{"shared memory", sharedMemory(valid), DefaultLimits(), ErrUnsupported},
		{"unknown opcode", with(func(m *tModule) { m.funcs[0].code = cat([]byte{0xd7}, end) }), DefaultLimits(), ErrMalformed},
		{"global out of range", with(func(m *tModule) { m.funcs[0].code = cat(i64c(1<<40), gset(0), lget(0), end) }), DefaultLimits(), ErrMalformed},
		{"call out of range", with(func(m *tModule) { m.funcs[0].code = cat(lget(0), call(99), end) }), DefaultLimits(), ErrMalformed},
		{"branch beyond function", with(func(m *tModule) { m.funcs[0].code = cat(lget(0), br(1), end) }), DefaultLimits(), ErrMalformed},
		{"missing end", with(func(m *tModule) { m.funcs[0].code = lget(0) }), DefaultLimits(), ErrMalformed},
		{"code after end", with(func(m *tModule) { m.funcs[0].code = cat(lget(0), end, lget(0)) }), DefaultLimits(), ErrMalformed},
		{"too many functions", valid, limit(func(l *Limits) { l.MaxFunctions = 5 }), ErrLimit},
		{"too many globals", with(func(m *tModule) {
			g := cat([]byte{valI32, 0}, i32c(0), end)
			m.globals = [][]byte{g, g}
		}), limit(func(l *Limits) { l.MaxGlobals = 1 }), ErrLimit},
		{"code too large", valid, limit(func(l *Limits) { l.MaxCodeBytes = len(valid) - 1 }), ErrLimit},
		{"memory too large", with(func(m *tModule) { m.mem = &limits{min: 3000} }), DefaultLimits(), ErrLimit},
		{"table too large", with(func(m *tModule) { m.table = &limits{min: 1 << 20} }), DefaultLimits(), ErrLimit},
		{"too many locals", with(func(m *tModule) { m.funcs[0].groups, m.funcs[0].locals = 1, []byte{0x80, 0x80, 0x04, valI32} }), DefaultLimits(), ErrLimit},
		{"reserved export", with(func(m *tModule) { m.exports = append(m.exports, tExport{GasGlobal, 0, 1}) }), DefaultLimits(), ErrMalformed},
		{"start section", with(func(m *tModule) { m.start = ptr(uint32(1)) }), DefaultLimits(), ErrUnsupported},
		{"reserved export prefix", with(func(m *tModule) { m.exports = append(m.exports, tExport{"phala.mine", 0, 1}) }), DefaultLimits(), ErrMalformed},
		{"table.set", tableOp([]byte{0xd0, valFuncRef, 0x26, 0}), DefaultLimits(), ErrUnsupported},
		{"table.grow", tableOp([]byte{0xd0, valFuncRef, 0x41, 1, 0xfc, 15, 0, 0x1a}), DefaultLimits(), ErrUnsupported},
		{"table.fill", tableOp([]byte{0x41, 0, 0xd0, valFuncRef, 0x41, 1, 0xfc, 17, 0}), DefaultLimits(), ErrUnsupported},
		{"table.copy", tableOp([]byte{0x41, 0, 0x41, 1, 0x41, 1, 0xfc, 14, 0, 0}), DefaultLimits(), ErrUnsupported},
		{"table.init", tableOp([]byte{0x41, 0, 0x41, 0, 0x41, 1, 0xfc, 12, 0, 0}), DefaultLimits(), ErrUnsupported},
		{"elem.drop", tableOp([]byte{0xfc, 13, 0}), DefaultLimits(), ErrUnsupported},
		{"memory.init", passiveOp([]byte{0x41, 0, 0x41, 0, 0x41, 1, 0xfc, 8, 0, 0}), DefaultLimits(), ErrUnsupported},
		{"data.drop", passiveOp([]byte{0xfc, 9, 0}), DefaultLimits(), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Instrument(tt.wasm, testCosts, tt.lim, testAllowed)
			if err == nil {
				t.Fatalf("accepted (%d bytes out)", len(out))
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want kind %v", err, tt.kind)
			}
			t.Log(err)
		})
	}
}

// sectionsSwapped moves the first section after the second.
func sectionsSwapped(wasm []byte) []byte {
	r := &reader{b: wasm, pos: len(wasmHeader)}
	var spans [][]byte
	for len(spans) < 2 {
		start := r.pos
		r.byte()
		r.bytes(int(r.u32()))
		spans = append(spans, wasm[start:r.pos])
	}
	out := append([]byte(nil), wasm[:len(wasmHeader)]...)
	out = append(append(out, spans[1]...), spans[0]...)
	return append(out, wasm[r.pos:]...)
}

// sharedMemory flips the memory limits flag to "shared with maximum".
func sharedMemory(wasm []byte) []byte {
	out := append([]byte(nil), wasm...)
	r := &reader{b: out, pos: len(wasmHeader)}
	for !r.done() {
		id := r.byte()
		n := int(r.u32())
		if id == secMemory {
			out[r.pos+1] = 3
			return out
		}
		r.bytes(n)
	}
	return out
}

func TestBadConfig(t *testing.T) {
	wasm := gasModule().bytes()
	big := DefaultCosts()
	big.MemoryGrowPage = 1 << 40
	if _, err := Instrument(wasm, big, DefaultLimits(), testAllowed); !errors.Is(err, ErrCosts) {
		t.Fatalf("huge cost: %v", err)
	}
	l := DefaultLimits()
	l.MaxCallDepth = 0
	if _, err := Instrument(wasm, DefaultCosts(), l, testAllowed); !errors.Is(err, ErrCosts) {
		t.Fatalf("zero call depth: %v", err)
	}
}

// TestLEB checks the reader against the spec's edge cases.
func TestLEB(t *testing.T) {
	tests := []struct {
		in   []byte
		bits uint
		sign bool
		want int64
		ok   bool
	}{
		{[]byte{0x00}, 32, false, 0, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 32, false, 0xffffffff, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 32, false, 0, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 32, false, 0, false},
		{[]byte{0x80, 0x00}, 32, false, 0, true},
		{[]byte{0x7f}, 32, true, -1, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x7f}, 32, true, -1, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x78}, 32, true, -1 << 31, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x07}, 32, true, 1<<31 - 1, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x4f}, 32, true, 0, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x70}, 32, true, 0, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, 64, true, -1 << 63, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 64, true, 0, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 33, true, 0xffffffff, true},
		{[]byte{0x80}, 32, false, 0, false},
	}
	for i, tt := range tests {
		r := &reader{b: tt.in}
		var got int64
		if tt.sign {
			got = r.sleb(tt.bits)
		} else {
			got = int64(r.uleb(tt.bits))
		}
		if (r.err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("case %d % x: got %d err %v, want %d ok %v", i, tt.in, got, r.err, tt.want, tt.ok)
		}
	}
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 1 << 40, -1 << 63, 1<<63 - 1} {
		r := &reader{b: appendSLEB(nil, v)}
		if got := r.sleb(64); got != v || r.err != nil {
			t.Errorf("sleb round trip %d: %d %v", v, got, r.err)
		}
	}
}

// tableOp is a module whose one function runs code (leaving nothing on
// the stack) against a funcref table of 2 with one active segment.
func tableOp(code []byte) []byte {
	m := &tModule{types: []funcType{tVoid}, table: &limits{min: 2}, elems: [][]uint32{{0}},
		funcs: []tFunc{{typ: 0, code: cat(code, end)}}}
	return m.bytes()
}

// passiveOp is the same with a memory and one passive data segment.
func passiveOp(code []byte) []byte {
	m := &tModule{types: []funcType{tVoid}, mem: &limits{min: 1}, passive: [][]byte{{1, 2}}, dataCnt: true,
		funcs: []tFunc{{typ: 0, code: cat(code, end)}}}
	return m.bytes()
}
