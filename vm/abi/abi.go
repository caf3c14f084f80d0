// Package abi declares the contract host ABI of module "phala" once: each
// host function's name, parameters, result, gas and availability, with one
// line of documentation. The VM registers its host module from Functions;
// the SDK's import stubs and the function table of vm/ABI.md are generated
// from it (go generate, see abigen), so host and contracts cannot drift
// apart unnoticed.
//
// It imports nothing, so a generator may read it without pulling in the VM,
// and contracts never import it at all: they get generated code.
package abi

import (
	"errors"
	"fmt"
)

// Module is the WebAssembly import module of every function in Functions.
const Module = "phala"

// Kind is how a parameter or result travels: its WebAssembly type, and
// for pointers and lengths the meaning the SDK gives it.
type Kind uint8

const (
	None  Kind = iota // no result
	Ptr               // i32 address in the contract's memory (unsafe.Pointer in the SDK)
	Len               // i32 byte count of the range at the Ptr just before it
	Int32             // a plain i32
	Int64             // a plain i64
)

// Wasm is the WebAssembly value type of k: "i32", "i64", or "" for None.
func (k Kind) Wasm() string {
	switch k {
	case Ptr, Len, Int32:
		return "i32"
	case Int64:
		return "i64"
	}
	return ""
}

// Avail says in which calls a function does its job.
type Avail uint8

const (
	// Everywhere: commands, queries and _initialize.
	Everywhere Avail = iota
	// QueryOnly: a command (or _initialize) may import and call it, but it
	// answers a fixed refusal on every worker alike, so commands stay
	// deterministic.
	QueryOnly
	// CommandOnly: only a command may use it; a query or _initialize that
	// calls it fails (vm/13), since what it does (moving value, queueing
	// messages) takes effect only with a command's results.
	CommandOnly
)

// Param is one parameter of a host function.
type Param struct {
	Name string // also the SDK stub's parameter name
	Kind Kind
}

// Func is one host function of module "phala".
type Func struct {
	Name   string // import name
	GoName string // the SDK's stub for it
	Params []Param
	Result Kind
	// Gas is the function's fixed cost, on top of the base cost of every
	// host call and the per-byte costs (vm.HostCosts).
	Gas   uint64
	Avail Avail
	Doc   string // one line for vm/ABI.md
}

// Validate reports rows that no side could serve: duplicate or missing
// names, a Len without its Ptr, a result that is not a value.
func Validate(fns []Func) error {
	var errs []error
	seen := map[string]bool{}
	for i, f := range fns {
		if f.Name == "" || f.GoName == "" || f.Doc == "" {
			errs = append(errs, fmt.Errorf("row %d (%q): name, Go name and doc are required", i, f.Name))
		}
		if seen[f.Name] || seen["go:"+f.GoName] {
			errs = append(errs, fmt.Errorf("row %d (%q): duplicate name or Go name", i, f.Name))
		}
		seen[f.Name], seen["go:"+f.GoName] = true, true
		if err := checkParams(f.Params); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
		}
		if f.Result == Ptr || f.Result == Len || f.Result > Int64 {
			errs = append(errs, fmt.Errorf("%s: result must be None, Int32 or Int64", f.Name))
		}
		if f.Avail > CommandOnly {
			errs = append(errs, fmt.Errorf("%s: unknown availability %d", f.Name, f.Avail))
		}
	}
	return errors.Join(errs...)
}

func checkParams(ps []Param) error {
	names := map[string]bool{}
	for i, p := range ps {
		if p.Name == "" || names[p.Name] {
			return fmt.Errorf("parameter %d: empty or duplicate name %q", i, p.Name)
		}
		names[p.Name] = true
		if p.Kind == None || p.Kind > Int64 {
			return fmt.Errorf("parameter %s: not a value", p.Name)
		}
		// A length only means something for the range it measures.
		if p.Kind == Len && (i == 0 || ps[i-1].Kind != Ptr) {
			return fmt.Errorf("parameter %s: Len must follow a Ptr", p.Name)
		}
	}
	return nil
}
