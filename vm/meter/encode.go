package meter

// encode writes the instrumented module: the original sections with the
// added types, helper functions, globals and exports appended at the end
// of their index spaces, and every function body rewritten.
func encode(m *module, c Costs, l Limits) ([]byte, error) {
	origTypes := len(m.types)
	lay := layout{
		origFuncs:   m.numFuncs(),
		origGlobals: len(m.globalsRaw),
		origTypes:   origTypes,
	}
	lay.gas = uint32(lay.origGlobals)
	lay.oog, lay.depth, lay.overflow, lay.stateCount = lay.gas+1, lay.gas+2, lay.gas+3, lay.gas+4
	lay.charge = uint32(lay.origFuncs)
	lay.grow, lay.bulk = lay.charge+1, lay.charge+2

	chargeType := m.typeIndex(funcType{params: []byte{valI64}})
	sizeType := m.typeIndex(funcType{params: []byte{valI32}, results: []byte{valI32}})

	w := &rewriter{m: m, c: c, lim: l, lay: lay, bt: m.blockTypeFor}
	bodies := make([][]byte, 0, len(m.bodies)+3)
	for i, code := range m.bodies {
		b, err := w.body(i, code)
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	bodies = append(bodies, chargeBody(lay), sizeBody(lay, c.MemoryGrowPage), sizeBody(lay, c.BulkBytePer))
	funcs := append(append([]uint32(nil), m.funcs...), chargeType, sizeType, sizeType)

	out := append([]byte(nil), wasmHeader...)
	out = appendSection(out, secType, m.typeSection())
	if m.hasImports {
		out = appendSection(out, secImport, m.importsRaw)
	}
	out = appendSection(out, secFunction, u32Vec(funcs))
	if m.hasTables {
		out = appendSection(out, secTable, m.tableSection())
	}
	if len(m.mems) > 0 {
		out = appendSection(out, secMemory, m.memorySection())
	}
	out = appendSection(out, secGlobal, m.globalSection())
	out = appendSection(out, secExport, m.exportSection(lay))
	if m.hasElem {
		out = appendSection(out, secElement, m.elemRaw)
	}
	if m.hasDataCnt {
		out = appendSection(out, secDataCount, appendULEB(nil, uint64(m.dataCount)))
	}
	out = appendSection(out, secCode, codeSection(bodies))
	if m.hasData {
		out = appendSection(out, secData, m.dataRaw)
	}
	return out, nil
}

// typeIndex finds a function type or appends it.
func (m *module) typeIndex(t funcType) uint32 {
	for i, have := range m.types {
		if have.equal(t) {
			return uint32(i)
		}
	}
	m.types = append(m.types, t)
	return uint32(len(m.types) - 1)
}

// blockTypeFor encodes the wrapper block type for a function's results.
func (m *module) blockTypeFor(results []byte) []byte {
	switch len(results) {
	case 0:
		return []byte{blockEmpty}
	case 1:
		return []byte{results[0]}
	}
	idx := m.typeIndex(funcType{results: results})
	return appendSLEB(nil, int64(idx))
}

func (m *module) typeSection() []byte {
	b := appendVec(nil, len(m.types))
	for _, t := range m.types {
		b = appendFuncType(b, t)
	}
	return b
}

func u32Vec(v []uint32) []byte {
	b := appendVec(nil, len(v))
	for _, x := range v {
		b = appendULEB(b, uint64(x))
	}
	return b
}

func (m *module) tableSection() []byte {
	b := appendVec(nil, len(m.tables))
	for _, t := range m.tables {
		b = appendLimits(append(b, t.ref), t.lim)
	}
	return b
}

func (m *module) memorySection() []byte {
	b := appendVec(nil, len(m.mems))
	for _, l := range m.mems {
		b = appendLimits(b, l)
	}
	return b
}

// globalSection appends gas (i64), out-of-gas flag, call depth and
// stack-overflow flag (i32), all mutable and zero, and the immutable i32
// count of the module's mutable globals.
func (m *module) globalSection() []byte {
	b := appendVec(nil, len(m.globalsRaw)+5)
	mutable := 0
	for _, g := range m.globalsRaw {
		b = append(b, g...)
		mutable += int(g[1])
	}
	b = append(b, valI64, 1, 0x42, 0, 0x0b)
	for i := 0; i < 3; i++ {
		b = append(b, valI32, 1, 0x41, 0, 0x0b)
	}
	b = append(b, valI32, 0, 0x41)
	b = appendSLEB(b, int64(mutable))
	return append(b, 0x0b)
}

// exportSection keeps the module's exports and adds the metering globals
// and, under StateGlobalName, each of the module's mutable globals.
func (m *module) exportSection(lay layout) []byte {
	type export struct {
		name string
		idx  uint32
	}
	added := []export{{GasGlobal, lay.gas}, {OutOfGasGlobal, lay.oog}, {CallDepthGlobal, lay.depth},
		{StackOverflowGlobal, lay.overflow}, {StateCountGlobal, lay.stateCount}}
	for i, g := range m.globalsRaw {
		if g[1] == 1 { // value type, then mutability
			added = append(added, export{StateGlobalName(len(added) - 5), uint32(i)})
		}
	}
	b := appendVec(nil, len(m.exportsRaw)+len(added))
	for _, e := range m.exportsRaw {
		b = append(b, e...)
	}
	for _, g := range added {
		b = appendVec(b, len(g.name))
		b = append(b, g.name...)
		b = append(b, 3) // global
		b = appendULEB(b, uint64(g.idx))
	}
	return b
}

func codeSection(bodies [][]byte) []byte {
	b := appendVec(nil, len(bodies))
	for _, body := range bodies {
		b = appendVec(b, len(body))
		b = append(b, body...)
	}
	return b
}

// chargeBody is the helper (param i64): charge the given gas or trap.
func chargeBody(lay layout) []byte {
	b := []byte{0} // no locals
	b = appendGlobalGet(b, lay.gas)
	b = append(b, 0x20, 0, 0x54, 0x04, blockEmpty) // local.get 0; i64.lt_u; if
	b = appendTrap(b, lay.oog)
	b = append(b, 0x0b)
	b = appendGlobalGet(b, lay.gas)
	b = append(b, 0x20, 0, 0x7d) // local.get 0; i64.sub
	b = appendGlobalSet(b, lay.gas)
	return append(b, 0x0b)
}

// sizeBody is a helper (param i32) (result i32): charge n*per, return n, so
// it can sit right before the instruction whose size operand is on top.
func sizeBody(lay layout, per uint64) []byte {
	b := []byte{0, 0x20, 0, 0xad, 0x42} // local.get 0; i64.extend_i32_u; i64.const
	b = appendSLEB(b, int64(per))
	b = append(b, 0x7e, 0x10) // i64.mul; call
	b = appendULEB(b, uint64(lay.charge))
	return append(b, 0x20, 0, 0x0b) // local.get 0; end
}
