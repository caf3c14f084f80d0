package meter

import (
	"errors"
	"testing"
)

// TestSpecRegressions holds the modules the spec suite (TestSpecSuite)
// found the meter passing although the spec calls them malformed or
// invalid. Only the first produced a module that ran: the meter drops
// custom sections, so a custom section's malformed name vanished. wazero
// refused the output of the others, but the meter claims to check every
// index and the binary structure itself, and now does.
func TestSpecRegressions(t *testing.T) {
	drop := []byte{0x1a}
	tests := []struct {
		name string
		wasm []byte
	}{
		{"custom section name not UTF-8", withCustom(gasModule().bytes(), "\xff")},
		{"export name not UTF-8", func() []byte {
			m := gasModule()
			m.exports = append(m.exports, tExport{"\xc3", 0, 1})
			return m.bytes()
		}()},
		{"data count without a data section", dataCountOnly()},
		{"load without a memory", voidFunc(nil, cat(i32c(0), []byte{0x28, 2, 0}, drop))},
		{"memory.size without a memory", voidFunc(nil, cat([]byte{0x3f, 0}, drop))},
		{"memory.fill without a memory", voidFunc(nil, cat(i32c(0), i32c(0), i32c(0), memFill))},
		{"active data without a memory", func() []byte {
			m := voidModule(nil, nil)
			m.data = [][]byte{{1}}
			return m.bytes()
		}()},
		{"call_indirect without a table", voidFunc(nil, cat(i32c(0), []byte{0x11, 0, 0}))},
		{"element segment without a table", func() []byte {
			m := voidModule(nil, nil)
			m.elems = [][]uint32{{0}}
			return m.bytes()
		}()},
		{"table.size of table 1 of 1", tableOp([]byte{0xfc, 16, 1, 0x1a})},
		{"constant global.get of a defined global", voidFunc([][]byte{
			cat([]byte{valI32, 0}, i32c(0), end),
			cat([]byte{valI32, 0}, gget(0), end),
		}, nil)},
		{"global.set of an immutable global", voidFunc([][]byte{cat([]byte{valI32, 0}, i32c(0), end)}, cat(i32c(1), gset(0)))},
		{"i32.load aligned beyond 4 bytes", withMemory(voidFunc(nil, cat(i32c(0), []byte{0x28, 3, 0}, drop)))},
		{"i64.store8 aligned beyond 1 byte", withMemory(voidFunc(nil, cat(i32c(0), i64c(0), []byte{0x3c, 1, 0})))},
		{"typed select of two types", voidFunc(nil, cat(i32c(1), i32c(2), i32c(0), []byte{0x1c, 2, valI32, valI32}, drop))},
		{"ref.func of an undeclared function", voidFunc(nil, cat([]byte{0xd2, 0}, drop))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Instrument(tt.wasm, testCosts, DefaultLimits(), testAllowed)
			if err == nil {
				t.Fatalf("accepted (wazero on the output: %v)", validates(out))
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want kind %v", err, ErrMalformed)
			}
		})
	}
}

// TestSpecRegressionsValidTwins: the valid neighbours of those modules
// still pass the meter and wazero.
func TestSpecRegressionsValidTwins(t *testing.T) {
	drop := []byte{0x1a}
	tests := []struct {
		name string
		wasm []byte
	}{
		{"custom section name in UTF-8", withCustom(gasModule().bytes(), "grüße")},
		{"memory.size with a memory", withMemory(voidFunc(nil, cat([]byte{0x3f, 0}, drop)))},
		{"naturally aligned i32.load", withMemory(voidFunc(nil, cat(i32c(0), []byte{0x28, 2, 0}, drop)))},
		{"table.size of table 0", tableOp([]byte{0xfc, 16, 0, 0x1a})},
		{"global.set of a mutable global", voidFunc([][]byte{cat([]byte{valI32, 1}, i32c(0), end)}, cat(i32c(1), gset(0)))},
		{"typed select of one type", voidFunc(nil, cat(i32c(1), i32c(2), i32c(0), []byte{0x1c, 1, valI32}, drop))},
		{"ref.func of an exported function", func() []byte {
			m := voidModule(nil, cat([]byte{0xd2, 0}, drop))
			m.exports = []tExport{{"f", 0, 0}}
			return m.bytes()
		}()},
		{"ref.func of a function in an element segment", func() []byte {
			m := voidModule(nil, cat([]byte{0xd2, 0}, drop))
			m.table, m.elems = &limits{min: 1}, [][]uint32{{0}}
			return m.bytes()
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Instrument(tt.wasm, testCosts, DefaultLimits(), testAllowed)
			if err != nil {
				t.Fatal(err)
			}
			if err := validates(out); err != nil {
				t.Fatalf("wazero refuses the output: %v", err)
			}
		})
	}
}

// voidModule has one function of type () -> () running code, and globals.
func voidModule(globals [][]byte, code []byte) *tModule {
	return &tModule{types: []funcType{tVoid}, globals: globals, funcs: []tFunc{{typ: 0, code: cat(code, end)}}}
}

func voidFunc(globals [][]byte, code []byte) []byte { return voidModule(globals, code).bytes() }

// withMemory adds a one-page memory section to a voidFunc module (right
// after its function section, where the section order puts it).
func withMemory(wasm []byte) []byte {
	r := &reader{b: wasm, pos: len(wasmHeader)}
	for !r.done() {
		id := r.byte()
		r.bytes(int(r.u32()))
		if id == secFunction {
			break
		}
	}
	out := append([]byte(nil), wasm[:r.pos]...)
	out = appendSection(out, secMemory, []byte{1, 0, 1})
	return append(out, wasm[r.pos:]...)
}

// withCustom appends a custom section of the given name.
func withCustom(wasm []byte, name string) []byte {
	payload := append(appendVec(nil, len(name)), name...)
	return appendSection(append([]byte(nil), wasm...), secCustom, payload)
}

// dataCountOnly declares one data segment in a data count section and has
// no data section: the module with one passive segment, its data section
// (the last, 6 bytes: id, size, count, flag, length, byte) cut off.
func dataCountOnly() []byte {
	m := voidModule(nil, nil)
	m.mem, m.passive, m.dataCnt = &limits{min: 1}, [][]byte{{7}}, true
	b := m.bytes()
	return b[:len(b)-6]
}
