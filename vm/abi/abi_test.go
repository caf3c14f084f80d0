package abi

import (
	"strings"
	"testing"
)

func TestFunctionsValid(t *testing.T) {
	if err := Validate(Functions); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejects(t *testing.T) {
	ok := Func{Name: "f", GoName: "hostF", Doc: "d"}
	with := func(edit func(*Func)) []Func { f := ok; edit(&f); return []Func{f} }
	tests := []struct {
		name string
		fns  []Func
		want string // "" means valid
	}{
		{"valid", []Func{ok}, ""},
		{"valid ranges", with(func(f *Func) { f.Params = ranges("k", "v"); f.Result = Int64 }), ""},
		{"no name", with(func(f *Func) { f.Name = "" }), "required"},
		{"no Go name", with(func(f *Func) { f.GoName = "" }), "required"},
		{"no doc", with(func(f *Func) { f.Doc = "" }), "required"},
		{"duplicate name", []Func{ok, {Name: "f", GoName: "hostG", Doc: "d"}}, "duplicate"},
		{"duplicate Go name", []Func{ok, {Name: "g", GoName: "hostF", Doc: "d"}}, "duplicate"},
		{"len first", with(func(f *Func) { f.Params = []Param{{"n", Len}} }), "must follow a Ptr"},
		{"len after int", with(func(f *Func) { f.Params = []Param{{"a", Int32}, {"n", Len}} }), "must follow a Ptr"},
		{"parameter None", with(func(f *Func) { f.Params = []Param{{"a", None}} }), "not a value"},
		{"parameter out of range", with(func(f *Func) { f.Params = []Param{{"a", Kind(9)}} }), "not a value"},
		{"duplicate parameter", with(func(f *Func) { f.Params = []Param{{"a", Int32}, {"a", Int32}} }), "duplicate name"},
		{"pointer result", with(func(f *Func) { f.Result = Ptr }), "result"},
		{"unknown availability", with(func(f *Func) { f.Avail = 7 }), "availability"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.fns)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid table refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestKindWasm(t *testing.T) {
	for k, want := range map[Kind]string{None: "", Ptr: "i32", Len: "i32", Int32: "i32", Int64: "i64", Kind(9): ""} {
		if got := k.Wasm(); got != want {
			t.Errorf("Kind(%d).Wasm() = %q, want %q", k, got, want)
		}
	}
}
