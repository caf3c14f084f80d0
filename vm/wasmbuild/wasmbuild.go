// Package wasmbuild builds a Go contract into a wasm module with the
// standard toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) and
// names it by its code hash. The build is reproducible: the same source and
// Go version give the same bytes on every machine and every run, so anyone
// can rebuild a deployed contract and compare its code hash. `phala
// contract build|verify` and the contract tests use it.
package wasmbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/phala-go/phala/errs"
)

// ErrBuild: the Go toolchain failed to build the contract.
var ErrBuild = errs.Register("vm", 50, "contract build failed")

// Result is a built contract.
type Result struct {
	Path      string `json:"path"`
	Hash      string `json:"code_hash"` // sha256 of the module, hex
	Size      int    `json:"size"`
	GoVersion string `json:"go_version"` // the toolchain, which a rebuild must match
}

// Build compiles the main package in dir to out ("" = dir/NAME.wasm).
// What could make two builds of one source differ is pinned: -trimpath
// drops where it was built, -buildvcs=false drops the version-control stamp
// (which changes once the .wasm lands in the source tree and makes it
// "modified"), GOFLAGS and GOWASM from the environment are cleared.
func Build(ctx context.Context, dir, out string) (Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, ErrBuild.Wrapf("%v", err)
	}
	if out == "" {
		out = filepath.Join(abs, filepath.Base(abs)+".wasm")
	}
	if out, err = filepath.Abs(out); err != nil {
		return Result{}, ErrBuild.Wrapf("%v", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOWASM=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Result{}, ErrBuild.Wrapf("%s: %v\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	version, err := goVersion(ctx, abs)
	if err != nil {
		return Result{}, err
	}
	code, err := os.ReadFile(out)
	if err != nil {
		return Result{}, ErrBuild.Wrapf("%v", err)
	}
	sum := sha256.Sum256(code)
	return Result{Path: out, Hash: hex.EncodeToString(sum[:]), Size: len(code), GoVersion: version}, nil
}

// goVersion is the toolchain `go` runs in dir (a go.mod's toolchain line
// can select another than the one on PATH).
func goVersion(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOVERSION")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", ErrBuild.Wrapf("go env GOVERSION: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// LanguageVersion is the Go language version (1.N) of the toolchain on
// PATH, for a new contract module's go line: the contract then builds with
// that toolchain, without fetching another.
func LanguageVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "", ErrBuild.Wrapf("contracts are built with the Go toolchain, and 'go env GOVERSION' failed: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return "", ErrBuild.Wrapf("cannot read the Go version %q", v)
	}
	return parts[0] + "." + parts[1], nil
}

// Cache builds each directory once per process, for tests.
type Cache struct {
	mu   sync.Mutex
	dir  string
	done map[string]*entry
}

type entry struct {
	once sync.Once
	code []byte
	err  error
}

// NewCache keeps outputs in outDir.
func NewCache(outDir string) *Cache { return &Cache{dir: outDir, done: map[string]*entry{}} }

// Code returns the module built from dir, building it on first use.
func (c *Cache) Code(ctx context.Context, dir string) ([]byte, error) {
	c.mu.Lock()
	e := c.done[dir]
	if e == nil {
		e = &entry{}
		c.done[dir] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		touchSources(dir)
		out := filepath.Join(c.dir, fmt.Sprintf("%x.wasm", sha256.Sum256([]byte(dir))))
		var r Result
		if r, e.err = Build(ctx, dir, out); e.err == nil {
			e.code, e.err = os.ReadFile(r.Path)
		}
	})
	return e.code, e.err
}

// touchSources reads the package's Go files in this process, so `go test`
// notices when a contract's source changes (the build itself runs in a
// child process, whose reads the test cache does not see).
func touchSources(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		_, _ = os.ReadFile(f)
	}
}
