// Command abigen writes the files derived from the host ABI table
// (vm/abi.Functions): the SDK's //go:wasmimport stubs, their native
// stand-ins, and the function table of vm/ABI.md. Run it through
// `go generate ./...`; a test in this package fails while any of those
// files is stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/vm/abi"
)

func main() {
	root := flag.String("root", ".", "the module's root directory")
	flag.Parse()
	if err := write(*root); err != nil {
		fmt.Fprintln(os.Stderr, "abigen:", err)
		os.Exit(1)
	}
}

// write rewrites only the files that changed, so a no-op run leaves
// timestamps (and build caches) alone.
func write(root string) error {
	outs, err := outputs(root, abi.Functions)
	if err != nil {
		return err
	}
	for _, o := range outs {
		path := filepath.Join(root, o.path)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, o.want) {
			continue
		}
		if err := os.WriteFile(path, o.want, 0o644); err != nil {
			return err
		}
	}
	return nil
}
