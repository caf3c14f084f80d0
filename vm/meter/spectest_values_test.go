package meter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// The JSON command files wast2json writes next to the .wasm modules of the
// spec suite. Only the fields the harness reads are declared.

type specScript struct {
	Source   string        `json:"source_filename"`
	Commands []specCommand `json:"commands"`
}

type specCommand struct {
	Type       string      `json:"type"`
	Line       int         `json:"line"`
	Name       string      `json:"name"`     // module: the script's $name for it
	Filename   string      `json:"filename"` // module and the assert_* taking one
	As         string      `json:"as"`       // register: the import module name
	Text       string      `json:"text"`     // the failure the spec expects
	ModuleType string      `json:"module_type"`
	Action     specAction  `json:"action"`
	Expected   []specValue `json:"expected"`
}

type specAction struct {
	Type   string      `json:"type"` // invoke or get
	Module string      `json:"module"`
	Field  string      `json:"field"`
	Args   []specValue `json:"args"`
}

// specValue is a typed value as the JSON writes it: a decimal string of the
// bits, "nan:canonical" or "nan:arithmetic" for results, "null" for a null
// reference, no value at all for "any non-null reference", an array of
// lanes for v128.
type specValue struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// specWord is a parsed specValue.
type specWord struct {
	typ    string
	bits   uint64
	nan    string // "canonical" or "arithmetic" when the spec accepts a class of NaNs
	anyRef bool   // any non-null reference
}

func parseSpecValues(vs []specValue) ([]specWord, error) {
	out := make([]specWord, 0, len(vs))
	for _, v := range vs {
		w, err := parseSpecValue(v)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func parseSpecValue(v specValue) (specWord, error) {
	w := specWord{typ: v.Type}
	if len(v.Value) == 0 {
		w.anyRef = true
		if v.Type != "externref" && v.Type != "funcref" {
			return w, fmt.Errorf("%s without a value", v.Type)
		}
		return w, nil
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		// v128 lanes come as an array: the meter refuses SIMD, so they can
		// only reach a module it accepted by mistake.
		return w, fmt.Errorf("%s value %s is not a scalar", v.Type, v.Value)
	}
	switch v.Type {
	case "i32", "f32":
		return parseNumber(w, s, 32)
	case "i64", "f64":
		return parseNumber(w, s, 64)
	case "externref":
		return parseExternRef(w, s)
	case "funcref":
		if s == "null" {
			return w, nil
		}
	}
	return w, fmt.Errorf("unsupported value %s %q", v.Type, s)
}

// parseNumber reads the bits of an integer or float: unsigned decimal (or
// signed, which some converters write), or a NaN class.
func parseNumber(w specWord, s string, bits int) (specWord, error) {
	if class, ok := strings.CutPrefix(s, "nan:"); ok {
		w.nan = class
		return w, nil
	}
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 10, bits)
		w.bits = uint64(n) & (^uint64(0) >> (64 - bits))
		return w, err
	}
	n, err := strconv.ParseUint(s, 10, bits)
	w.bits = n
	return w, err
}

// parseExternRef maps the script's host reference n to n+1: wazero passes
// externref as an opaque word in which 0 is null.
func parseExternRef(w specWord, s string) (specWord, error) {
	if s == "null" {
		return w, nil
	}
	n, err := strconv.ParseUint(s, 10, 63)
	w.bits = n + 1
	return w, err
}

// argWords are the words to pass to wazero for an action's arguments.
func argWords(vs []specValue) ([]uint64, error) {
	words, err := parseSpecValues(vs)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, 0, len(words))
	for _, w := range words {
		if w.nan != "" || w.anyRef {
			return nil, fmt.Errorf("argument %s is not a concrete value", w.typ)
		}
		out = append(out, w.bits)
	}
	return out, nil
}

// matches reports whether a result word is what the spec expects: bit for
// bit (so -0 differs from +0 and a NaN's payload counts), except that a
// NaN class accepts every NaN of that class and "any reference" every
// non-null one.
func (w specWord) matches(got uint64) bool {
	switch w.typ {
	case "i32":
		return uint32(got) == uint32(w.bits)
	case "f32":
		return w.nan32(uint32(got))
	case "f64":
		return w.nan64(got)
	case "externref", "funcref":
		if w.anyRef {
			return got != 0
		}
		// Scripts name no function reference but null (a funcref is an
		// engine pointer), and an externref is the host's word unchanged.
		return got == w.bits
	}
	return got == w.bits
}

const (
	f32Exp, f32Quiet = 0x7f800000, 0x00400000
	f64Exp, f64Quiet = 0x7ff0000000000000, 0x0008000000000000
)

func (w specWord) nan32(got uint32) bool {
	switch w.nan {
	case "canonical":
		return got&^(1<<31) == f32Exp|f32Quiet
	case "arithmetic":
		return got&f32Exp == f32Exp && got&f32Quiet != 0
	}
	return got == uint32(w.bits)
}

func (w specWord) nan64(got uint64) bool {
	switch w.nan {
	case "canonical":
		return got&^(1<<63) == f64Exp|f64Quiet
	case "arithmetic":
		return got&f64Exp == f64Exp && got&f64Quiet != 0
	}
	return got == w.bits
}

// sameWord compares a result of the original module with the instrumented
// one's. Both run on one engine and CPU, so even NaN bits must agree; only
// function references, engine pointers into different instances, are
// compared by null-ness.
func sameWord(t api.ValueType, a, b uint64) bool {
	switch t {
	case api.ValueTypeI32, api.ValueTypeF32:
		return uint32(a) == uint32(b)
	case valFuncRef: // api has no name for funcref
		return (a == 0) == (b == 0)
	}
	return a == b
}
