package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/vm/abi"
)

// output is one generated file: its path under the module root and the
// bytes it should hold.
type output struct {
	path string
	want []byte
}

// outputs renders every file generated from fns. Documents that are only
// partly generated are read from root, so their hand-written text is kept.
func outputs(root string, fns []abi.Func) ([]output, error) {
	if err := abi.Validate(fns); err != nil {
		return nil, fmt.Errorf("vm/abi table: %w", err)
	}
	stubs, err := wasmImports(fns)
	if err != nil {
		return nil, err
	}
	standIns, err := nativeStandIns(fns)
	if err != nil {
		return nil, err
	}
	const docPath = "vm/ABI.md"
	doc, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		return nil, err
	}
	doc, err = replaceSection(doc, docTable(fns))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", docPath, err)
	}
	return []output{
		{"sdk/host_wasip1.go", stubs},
		{"sdk/host_other.go", standIns},
		{docPath, doc},
	}, nil
}
