package meter

// Section ids of the binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

// sectionRank gives the order sections must appear in (data count sits
// between element and code). Zero means unknown or not allowed.
var sectionRank = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5,
	secGlobal: 6, secExport: 7, secStart: 8, secElement: 9, secDataCount: 10,
	secCode: 11, secData: 12,
}

// Value and reference types.
const (
	valI32       = 0x7f
	valI64       = 0x7e
	valF32       = 0x7d
	valF64       = 0x7c
	valV128      = 0x7b
	valFuncRef   = 0x70
	valExternRef = 0x6f
	blockEmpty   = 0x40
)

type funcType struct {
	params, results []byte
}

func (t funcType) equal(o funcType) bool {
	return string(t.params) == string(o.params) && string(t.results) == string(o.results)
}

type limits struct {
	min, max uint32
	hasMax   bool
}

type table struct {
	ref byte
	lim limits
}

// module is the decoded view Instrument needs. Sections it does not change
// are kept as raw payloads and re-emitted byte for byte.
type module struct {
	types       []funcType
	importsRaw  []byte
	hasImports  bool
	importFuncs []uint32 // type index of each imported function
	funcs       []uint32 // type index of each defined function
	tables      []table
	hasTables   bool
	mems        []limits
	globalsRaw  [][]byte // each global entry as it came
	exportsRaw  [][]byte
	exportNames map[string]bool
	elemRaw     []byte
	hasElem     bool
	dataCount   uint32
	hasDataCnt  bool
	bodies      [][]byte // each function body without its size prefix
	dataRaw     []byte
	hasData     bool
	// declared are the functions named outside function bodies (exports,
	// element segments, global initializers): the only ones ref.func in a
	// body may name.
	declared map[uint32]bool
}

func (m *module) numFuncs() int { return len(m.importFuncs) + len(m.funcs) }

// decoder holds what decoding needs besides the bytes.
type decoder struct {
	lim     Limits
	allowed map[string]bool
	m       *module
}

var wasmHeader = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// decodeModule parses the whole module, checking structure, limits and
// index ranges. Function bodies are split out but decoded later.
func (d *decoder) decodeModule(b []byte) error {
	if len(b) < len(wasmHeader) || string(b[:4]) != string(wasmHeader[:4]) {
		return ErrMalformed.Wrapf("not a wasm module (too short or bad magic)")
	}
	if string(b[4:8]) != string(wasmHeader[4:8]) {
		return ErrMalformed.Wrapf("unsupported wasm version % x", b[4:8])
	}
	r := &reader{b: b, pos: len(wasmHeader)}
	lastRank := 0
	for !r.done() {
		id := r.byte()
		size := r.u32()
		payload := r.bytes(int(size))
		if r.err != nil {
			return r.err
		}
		if id == secCustom {
			if err := checkCustom(payload); err != nil {
				return err
			}
			continue // custom sections are dropped
		}
		rank, ok := sectionRank[id]
		if !ok {
			return ErrUnsupported.Wrapf("section id %d (exception handling or unknown)", id)
		}
		if rank <= lastRank {
			return ErrMalformed.Wrapf("section %d out of order or duplicated", id)
		}
		lastRank = rank
		if err := d.section(id, payload); err != nil {
			return err
		}
	}
	if len(d.m.funcs) != len(d.m.bodies) {
		return ErrMalformed.Wrapf("function section declares %d functions, code section has %d", len(d.m.funcs), len(d.m.bodies))
	}
	if d.m.hasDataCnt && !d.m.hasData && d.m.dataCount != 0 {
		return ErrMalformed.Wrapf("data count %d but no data section", d.m.dataCount)
	}
	return nil
}

func checkCustom(p []byte) error {
	r := &reader{b: p}
	r.name()
	return r.err
}

func (d *decoder) section(id byte, p []byte) error {
	r := &reader{b: p}
	switch id {
	case secType:
		d.types(r)
	case secImport:
		d.m.importsRaw, d.m.hasImports = p, true
		d.imports(r)
	case secFunction:
		d.functions(r)
	case secTable:
		d.m.hasTables = true
		d.tables(r)
	case secMemory:
		d.memories(r)
	case secGlobal:
		d.globals(r)
	case secExport:
		d.exports(r)
	case secStart:
		// The start function would run at instantiation, before the host
		// can set the gas budget; contracts are reactors (_initialize).
		return ErrUnsupported.Wrapf("start section (export _initialize instead)")
	case secElement:
		d.m.elemRaw, d.m.hasElem = p, true
		d.elements(r)
	case secDataCount:
		d.m.dataCount, d.m.hasDataCnt = r.u32(), true
	case secCode:
		d.code(r)
	case secData:
		d.m.dataRaw, d.m.hasData = p, true
		d.data(r)
	}
	if r.err == nil && r.pos != len(r.b) {
		r.fail("section %d has %d trailing bytes", id, len(r.b)-r.pos)
	}
	if r.err != nil {
		return r.err
	}
	return d.limitErr(id)
}

// limitErr checks the limits that a section may have crossed.
func (d *decoder) limitErr(id byte) error {
	m := d.m
	switch {
	case m.numFuncs() > d.lim.MaxFunctions:
		return ErrLimit.Wrapf("%d functions, limit %d", m.numFuncs(), d.lim.MaxFunctions)
	case len(m.globalsRaw) > d.lim.MaxGlobals:
		return ErrLimit.Wrapf("%d globals, limit %d", len(m.globalsRaw), d.lim.MaxGlobals)
	case len(m.types) > maxTypes:
		return ErrLimit.Wrapf("%d types, limit %d", len(m.types), maxTypes)
	}
	return nil
}

// maxTypes bounds the type section; Go modules use a few dozen.
const maxTypes = 10000

func (r *reader) valType() byte {
	t := r.byte()
	switch t {
	case valI32, valI64, valF32, valF64, valFuncRef, valExternRef:
	case valV128:
		if r.err == nil {
			r.err = ErrUnsupported.Wrapf("v128 (SIMD) value type")
		}
	default:
		r.fail("unknown value type 0x%02x", t)
	}
	return t
}

func (r *reader) valTypes() []byte {
	n := r.count()
	out := make([]byte, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.valType())
	}
	return out
}

func (d *decoder) types(r *reader) {
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		if f := r.byte(); f != 0x60 && r.err == nil {
			r.fail("type %d: form 0x%02x is not func", i, f)
			return
		}
		t := funcType{params: r.valTypes(), results: r.valTypes()}
		d.m.types = append(d.m.types, t)
		if len(d.m.types) > maxTypes {
			return
		}
	}
}

func (d *decoder) typeIdx(r *reader) uint32 {
	idx := r.u32()
	if r.err == nil && int(idx) >= len(d.m.types) {
		r.fail("type index %d out of range", idx)
	}
	return idx
}

func (d *decoder) imports(r *reader) {
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		mod, field := r.name(), r.name()
		kind := r.byte()
		if r.err != nil {
			return
		}
		if !d.allowed[mod] {
			r.err = ErrImport.Wrapf("import %q.%q: module %q is not allowed", mod, field, mod)
			return
		}
		if kind != 0 {
			r.err = ErrImport.Wrapf("import %q.%q: only functions may be imported (kind %d)", mod, field, kind)
			return
		}
		d.m.importFuncs = append(d.m.importFuncs, d.typeIdx(r))
		if d.m.numFuncs() > d.lim.MaxFunctions {
			return
		}
	}
}

func (d *decoder) functions(r *reader) {
	n := r.count()
	if len(d.m.importFuncs)+n > d.lim.MaxFunctions {
		r.err = ErrLimit.Wrapf("%d functions, limit %d", len(d.m.importFuncs)+n, d.lim.MaxFunctions)
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		d.m.funcs = append(d.m.funcs, d.typeIdx(r))
	}
}

func (r *reader) limits(max32 uint32) limits {
	var l limits
	switch flag := r.byte(); flag {
	case 0:
		l.min = r.u32()
	case 1:
		l.min, l.max, l.hasMax = r.u32(), r.u32(), true
	case 2, 3:
		if r.err == nil {
			r.err = ErrUnsupported.Wrapf("shared memory (threads)")
		}
	default:
		if r.err == nil {
			r.err = ErrUnsupported.Wrapf("limits flag 0x%02x (memory64 or unknown)", flag)
		}
	}
	if r.err == nil && (l.min > max32 || (l.hasMax && (l.max > max32 || l.max < l.min))) {
		r.fail("limits min %d max %d invalid", l.min, l.max)
	}
	return l
}

func (d *decoder) tables(r *reader) {
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		ref := r.byte()
		if r.err == nil && ref != valFuncRef && ref != valExternRef {
			r.fail("table %d: element type 0x%02x", i, ref)
			return
		}
		l := r.limits(^uint32(0))
		if r.err != nil {
			return
		}
		if l.min > d.lim.MaxTableSize {
			r.err = ErrLimit.Wrapf("table %d: %d initial elements, limit %d", i, l.min, d.lim.MaxTableSize)
			return
		}
		if !l.hasMax || l.max > d.lim.MaxTableSize {
			l.max, l.hasMax = d.lim.MaxTableSize, true
		}
		d.m.tables = append(d.m.tables, table{ref: ref, lim: l})
	}
}

// maxPages is the spec's bound for a 32-bit memory.
const maxPages = 65536

func (d *decoder) memories(r *reader) {
	n := r.count()
	if n > 1 {
		r.err = ErrUnsupported.Wrapf("%d memories (multi-memory)", n)
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		l := r.limits(maxPages)
		if r.err != nil {
			return
		}
		if l.min > d.lim.MaxMemoryPages {
			r.err = ErrLimit.Wrapf("memory: %d initial pages, limit %d", l.min, d.lim.MaxMemoryPages)
			return
		}
		if !l.hasMax || l.max > d.lim.MaxMemoryPages {
			l.max, l.hasMax = d.lim.MaxMemoryPages, true
		}
		d.m.mems = append(d.m.mems, l)
	}
}

// constExpr checks a constant expression: one constant instruction and end.
// Function indices must be in the module's original range, so an
// expression cannot name the helpers Instrument appends. global.get may
// only read an imported global there, and no global can be imported, so it
// names an unknown global wherever it appears (nor can it reach the
// globals Instrument appends).
func (d *decoder) constExpr(r *reader) {
	switch op := r.byte(); op {
	case 0x41:
		r.sleb(32)
	case 0x42:
		r.sleb(64)
	case 0x43:
		r.bytes(4)
	case 0x44:
		r.bytes(8)
	case 0x23:
		if g := r.u32(); r.err == nil {
			r.fail("constant global.get %d: unknown global (only imported globals may be read there, and none can be imported)", g)
		}
	case 0xd0:
		if t := r.byte(); r.err == nil && t != valFuncRef && t != valExternRef {
			r.fail("ref.null type 0x%02x", t)
		}
	case 0xd2:
		d.funcIdx(r)
	default:
		if r.err == nil {
			r.err = ErrUnsupported.Wrapf("constant expression opcode 0x%02x", op)
		}
	}
	if end := r.byte(); r.err == nil && end != 0x0b {
		r.fail("constant expression not terminated by end")
	}
}

// funcIdx reads a function index outside a body, which declares the
// function for ref.func.
func (d *decoder) funcIdx(r *reader) uint32 {
	f := r.u32()
	if r.err == nil && int(f) >= d.m.numFuncs() {
		r.fail("function index %d out of range", f)
	}
	d.declare(f)
	return f
}

func (d *decoder) declare(f uint32) {
	if d.m.declared == nil {
		d.m.declared = make(map[uint32]bool)
	}
	d.m.declared[f] = true
}

func (d *decoder) globals(r *reader) {
	n := r.count()
	if n > d.lim.MaxGlobals {
		r.err = ErrLimit.Wrapf("%d globals, limit %d", n, d.lim.MaxGlobals)
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		start := r.pos
		r.valType()
		if mut := r.byte(); r.err == nil && mut > 1 {
			r.fail("global %d: mutability 0x%02x", i, mut)
		}
		d.constExpr(r)
		if r.err == nil {
			d.m.globalsRaw = append(d.m.globalsRaw, r.b[start:r.pos])
		}
	}
}

func (d *decoder) exports(r *reader) {
	n := r.count()
	d.m.exportNames = make(map[string]bool, n)
	for i := 0; i < n && r.err == nil; i++ {
		start := r.pos
		name := r.name()
		kind := r.byte()
		idx := r.u32()
		if r.err != nil {
			return
		}
		if d.m.exportNames[name] {
			r.fail("duplicate export %q", name)
			return
		}
		d.m.exportNames[name] = true
		var bound int
		switch kind {
		case 0:
			bound = d.m.numFuncs()
		case 1:
			bound = len(d.m.tables)
		case 2:
			bound = len(d.m.mems)
		case 3:
			bound = len(d.m.globalsRaw)
		default:
			r.fail("export %q: kind %d", name, kind)
			return
		}
		if int(idx) >= bound {
			r.fail("export %q: index %d out of range", name, idx)
			return
		}
		if kind == 0 {
			d.declare(idx)
		}
		d.m.exportsRaw = append(d.m.exportsRaw, r.b[start:r.pos])
	}
}

// elements validates element segments (all eight encodings) so that no
// function reference can reach an appended helper.
func (d *decoder) elements(r *reader) {
	n := r.count()
	for i := 0; i < n && r.err == nil; i++ {
		flags := r.u32()
		if r.err == nil && flags > 7 {
			r.fail("element segment %d: flags %d", i, flags)
			return
		}
		table := uint32(0)
		if flags&3 == 2 { // explicit table index
			table = r.u32()
		}
		if flags&1 == 0 { // active: a table and an offset expression
			d.tableIdx(r, table)
			d.constExpr(r)
		}
		if flags&3 != 0 { // elemkind or reftype byte
			if k := r.byte(); r.err == nil && k != 0 && k != valFuncRef && k != valExternRef {
				r.fail("element segment %d: kind 0x%02x", i, k)
			}
		}
		cnt := r.count()
		for j := 0; j < cnt && r.err == nil; j++ {
			if flags&4 == 0 {
				d.funcIdx(r)
			} else {
				d.constExpr(r)
			}
		}
	}
}

// tableIdx checks a table index; only defined tables exist (imported
// tables are refused).
func (d *decoder) tableIdx(r *reader, t uint32) {
	if r.err == nil && int(t) >= len(d.m.tables) {
		r.fail("unknown table %d", t)
	}
}

func (d *decoder) data(r *reader) {
	n := r.count()
	if d.m.hasDataCnt && uint32(n) != d.m.dataCount {
		r.fail("data count %d but %d data segments", d.m.dataCount, n)
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		switch flags := r.u32(); flags {
		case 0:
			d.memory(r, 0)
			d.constExpr(r)
		case 1:
		case 2:
			d.memory(r, r.u32())
			d.constExpr(r)
		default:
			r.fail("data segment %d: flags %d", i, flags)
		}
		r.bytes(r.count())
	}
}

// memory checks a memory index; only a defined memory 0 can exist
// (imported memories are refused).
func (d *decoder) memory(r *reader, m uint32) {
	if r.err == nil && int(m) >= len(d.m.mems) {
		r.fail("unknown memory %d", m)
	}
}

func (d *decoder) code(r *reader) {
	n := r.count()
	if n != len(d.m.funcs) {
		r.fail("code section has %d bodies, function section %d", n, len(d.m.funcs))
		return
	}
	for i := 0; i < n && r.err == nil; i++ {
		size := r.u32()
		body := r.bytes(int(size))
		d.m.bodies = append(d.m.bodies, body)
	}
}
