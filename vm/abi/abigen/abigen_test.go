package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/phala-go/phala/vm/abi"
)

// moduleRoot is where this package sits: vm/abi/abigen.
const moduleRoot = "../../.."

// TestGeneratedFilesUpToDate regenerates in memory and compares, so a
// table edit without `go generate` fails here instead of trapping a
// contract at run time.
func TestGeneratedFilesUpToDate(t *testing.T) {
	outs, err := outputs(moduleRoot, abi.Functions)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		got, err := os.ReadFile(filepath.Join(moduleRoot, o.path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, o.want) {
			t.Errorf("%s is stale: run `go generate ./...` (it is generated from vm/abi.Functions)", o.path)
		}
	}
}

var sample = []abi.Func{
	{Name: "get", GoName: "hostGet", Params: []abi.Param{{Name: "kptr", Kind: abi.Ptr}, {Name: "klen", Kind: abi.Len}}, Result: abi.Int32, Gas: 500, Doc: "value | or -1"},
	{Name: "height", GoName: "hostHeight", Result: abi.Int64, Doc: "block height"},
	{Name: "fetch", GoName: "hostFetch", Params: []abi.Param{{Name: "n", Kind: abi.Int64}}, Avail: abi.QueryOnly, Doc: "fetch"},
	{Name: "spend", GoName: "hostSpend", Avail: abi.CommandOnly, Doc: "spend"},
}

func TestRender(t *testing.T) {
	stubs, err := wasmImports(sample)
	if err != nil {
		t.Fatal(err)
	}
	standIns, err := nativeStandIns(sample)
	if err != nil {
		t.Fatal(err)
	}
	noPtr, err := wasmImports(sample[1:])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, want string
		absent           bool
	}{
		{"stub header", string(stubs), header + "//go:build wasip1\n", false},
		{"stub with ranges", string(stubs), "//go:wasmimport phala get\nfunc hostGet(kptr unsafe.Pointer, klen int32) int32\n", false},
		{"stub with i64 result", string(stubs), "//go:wasmimport phala height\nfunc hostHeight() int64\n", false},
		{"stub with i64 parameter", string(stubs), "func hostFetch(n int64)\n", false},
		{"unsafe imported", string(stubs), `import "unsafe"`, false},
		{"unsafe only when used", string(noPtr), `import "unsafe"`, true},
		{"stand-in header", string(standIns), header + "//go:build !wasip1\n", false},
		{"stand-in with result", string(standIns), "func hostGet(unsafe.Pointer, int32) int32 { noHost(); return 0 }", false},
		{"stand-in without result", string(standIns), "func hostFetch(int64) { noHost() }", false},
		{"doc row", docTable(sample), "| `get` | kptr, klen | i32 | 500 | value \\| or -1 |\n", false},
		{"doc row, empty cells", docTable(sample), "| `height` | | i64 | 0 | block height |\n", false},
		{"doc row, query only", docTable(sample), "| `fetch` | n | | 0 | query only: fetch |\n", false},
		{"doc row, command only", docTable(sample), "| `spend` | | | 0 | command only: spend |\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// gofmt aligns the stand-ins; runs of spaces are not what is tested.
			text := spaces.ReplaceAllString(tt.text, " ")
			if strings.Contains(text, tt.want) == tt.absent {
				t.Fatalf("contains %q = %v, want %v, in:\n%s", tt.want, !tt.absent, tt.absent, tt.text)
			}
		})
	}
}

var spaces = regexp.MustCompile(` +`)

func TestReplaceSection(t *testing.T) {
	tests := []struct {
		name, doc, want string
		err             bool
	}{
		{"replaces", "a\n" + beginMarker + "old\n" + endMarker + "b\n", "a\n" + beginMarker + "NEW\n" + endMarker + "b\n", false},
		{"empty section", beginMarker + endMarker, beginMarker + "NEW\n" + endMarker, false},
		{"no markers", "a\n", "", true},
		{"no end", beginMarker + "x\n", "", true},
		{"end first", endMarker + beginMarker, "", true},
		{"two sections", beginMarker + endMarker + beginMarker + endMarker, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replaceSection([]byte(tt.doc), "NEW\n")
			if tt.err {
				if !errors.Is(err, errMarkers) {
					t.Fatalf("error %v, want errMarkers", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestOutputsRefuseInvalidTable(t *testing.T) {
	bad := append([]abi.Func{}, sample...)
	bad = append(bad, sample[0]) // duplicate
	if _, err := outputs(moduleRoot, bad); err == nil {
		t.Fatal("an invalid table was rendered")
	}
}

// TestWriteIsIdempotent: write on a copy of the tree produces exactly
// what the test above expects and a second run changes nothing.
func TestWriteIsIdempotent(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"vm/ABI.md", "sdk/host_wasip1.go", "sdk/host_other.go"} {
		b, err := os.ReadFile(filepath.Join(moduleRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		// Stale generated files, untouched hand-written text.
		if strings.HasSuffix(p, ".go") {
			b = []byte("stale")
		}
		if err := os.WriteFile(filepath.Join(root, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := write(root); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := outputs(root, abi.Functions)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		got, _ := os.ReadFile(filepath.Join(root, o.path))
		want, _ := os.ReadFile(filepath.Join(moduleRoot, o.path))
		if !bytes.Equal(got, o.want) || !bytes.Equal(got, want) {
			t.Errorf("%s differs after write", o.path)
		}
	}
}
