package meter

// A tiny test-only module assembler: enough to write the modules the tests
// need as Go values instead of opaque byte strings.

type tImport struct {
	mod, name string
	typ       uint32
}

type tFunc struct {
	typ    uint32
	locals []byte // raw local declarations after the group count, e.g. {1, valI32}
	groups int
	code   []byte // instructions including the final end
}

type tExport struct {
	name string
	kind byte
	idx  uint32
}

type tModule struct {
	types   []funcType
	imports []tImport
	funcs   []tFunc
	table   *limits    // one funcref table
	elems   [][]uint32 // active segments at offset 0.., each in table 0
	mem     *limits
	globals [][]byte // raw global entries
	exports []tExport
	start   *uint32
	data    [][]byte // active segments at offset 0
	passive [][]byte // passive segments, indexed after data
	dataCnt bool
	custom  bool
}

func (m *tModule) bytes() []byte {
	out := append([]byte(nil), wasmHeader...)
	if m.custom {
		out = appendSection(out, secCustom, append(appendVec(nil, 4), "note: dropped"...))
	}
	types := appendVec(nil, len(m.types))
	for _, t := range m.types {
		types = appendFuncType(types, t)
	}
	out = appendSection(out, secType, types)
	if len(m.imports) > 0 {
		b := appendVec(nil, len(m.imports))
		for _, im := range m.imports {
			b = appendVec(b, len(im.mod))
			b = append(b, im.mod...)
			b = appendVec(b, len(im.name))
			b = append(b, im.name...)
			b = append(b, 0)
			b = appendULEB(b, uint64(im.typ))
		}
		out = appendSection(out, secImport, b)
	}
	fidx := make([]uint32, len(m.funcs))
	for i, f := range m.funcs {
		fidx[i] = f.typ
	}
	out = appendSection(out, secFunction, u32Vec(fidx))
	if m.table != nil {
		out = appendSection(out, secTable, appendLimits([]byte{1, valFuncRef}, *m.table))
	}
	if m.mem != nil {
		out = appendSection(out, secMemory, appendLimits([]byte{1}, *m.mem))
	}
	if len(m.globals) > 0 {
		b := appendVec(nil, len(m.globals))
		for _, g := range m.globals {
			b = append(b, g...)
		}
		out = appendSection(out, secGlobal, b)
	}
	if len(m.exports) > 0 {
		b := appendVec(nil, len(m.exports))
		for _, e := range m.exports {
			b = appendVec(b, len(e.name))
			b = append(b, e.name...)
			b = append(b, e.kind)
			b = appendULEB(b, uint64(e.idx))
		}
		out = appendSection(out, secExport, b)
	}
	if m.start != nil {
		out = appendSection(out, secStart, appendULEB(nil, uint64(*m.start)))
	}
	if len(m.elems) > 0 {
		b := appendVec(nil, len(m.elems))
		off := 0
		for _, seg := range m.elems {
			b = append(b, 0, 0x41)
			b = appendSLEB(b, int64(off))
			b = append(b, 0x0b)
			b = append(b, u32Vec(seg)...)
			off += len(seg)
		}
		out = appendSection(out, secElement, b)
	}
	if m.dataCnt {
		out = appendSection(out, secDataCount, appendULEB(nil, uint64(len(m.data)+len(m.passive))))
	}
	code := appendVec(nil, len(m.funcs))
	for _, f := range m.funcs {
		body := appendVec(nil, f.groups)
		body = append(body, f.locals...)
		body = append(body, f.code...)
		code = appendVec(code, len(body))
		code = append(code, body...)
	}
	out = appendSection(out, secCode, code)
	if len(m.data)+len(m.passive) > 0 {
		b := appendVec(nil, len(m.data)+len(m.passive))
		for _, d := range m.data {
			b = append(b, 0, 0x41, 0, 0x0b)
			b = appendVec(b, len(d))
			b = append(b, d...)
		}
		for _, d := range m.passive {
			b = append(b, 1)
			b = appendVec(b, len(d))
			b = append(b, d...)
		}
		out = appendSection(out, secData, b)
	}
	return out
}

// Instruction helpers for readable bodies.
func i32c(v int32) []byte  { return appendSLEB([]byte{0x41}, int64(v)) }
func i64c(v int64) []byte  { return appendSLEB([]byte{0x42}, v) }
func lget(i uint32) []byte { return appendULEB([]byte{0x20}, uint64(i)) }
func lset(i uint32) []byte { return appendULEB([]byte{0x21}, uint64(i)) }
func ltee(i uint32) []byte { return appendULEB([]byte{0x22}, uint64(i)) }
func call(f uint32) []byte { return appendULEB([]byte{0x10}, uint64(f)) }
func br(l uint32) []byte   { return appendULEB([]byte{0x0c}, uint64(l)) }
func brIf(l uint32) []byte { return appendULEB([]byte{0x0d}, uint64(l)) }
func gget(i uint32) []byte { return appendULEB([]byte{0x23}, uint64(i)) }
func gset(i uint32) []byte { return appendULEB([]byte{0x24}, uint64(i)) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

const (
	opEnd    = 0x0b
	opI32Add = 0x6a
	opI32Sub = 0x6b
	opI32Eqz = 0x45
	opReturn = 0x0f
)

var (
	blockE   = []byte{0x02, blockEmpty}
	loopE    = []byte{0x03, blockEmpty}
	ifI32    = []byte{0x04, valI32}
	elseOp   = []byte{0x05}
	end      = []byte{opEnd}
	memFill  = []byte{0xfc, 11, 0}
	memCopy  = []byte{0xfc, 10, 0, 0}
	memGrow  = []byte{0x40, 0}
	tI32I32  = funcType{params: []byte{valI32}, results: []byte{valI32}}
	tVoidI32 = funcType{results: []byte{valI32}}
	tVoid    = funcType{}
)
