package newcontract_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/phala-go/phala/sdk/newcontract"
	"github.com/phala-go/phala/vm/wasmbuild"
)

func goVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	return parts[0] + "." + parts[1]
}

// TestNewContractBuildsAlone: a new contract, written outside this
// repository, builds with the Go toolchain alone, twice to the same code
// hash, also when it sits in a git repository whose tree the first .wasm
// made "modified" (builds drop the VCS stamp); a changed source changes it.
func TestNewContractBuildsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a contract")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "counter")
	if err := newcontract.Write(dir, "counter", goVersion()); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err == nil {
		for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "contract"}} {
			cmd := exec.Command("git", args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
	}
	first, err := wasmbuild.Build(ctx, dir, "") // into the source tree, as a user would
	if err != nil {
		t.Fatal(err)
	}
	second, err := wasmbuild.Build(ctx, dir, filepath.Join(t.TempDir(), "again.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Hash != second.Hash || first.GoVersion == "" {
		t.Fatalf("two builds of one source: %s and %s (%s)", first.Hash, second.Hash, first.GoVersion)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.Replace(readFile(t, filepath.Join(dir, "main.go")), `"count"`, `"counter"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := wasmbuild.Build(ctx, dir, filepath.Join(t.TempDir(), "changed.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Hash == first.Hash {
		t.Fatal("a changed source built to the same hash")
	}
}

func TestWriteRefuses(t *testing.T) {
	existing := t.TempDir()
	for _, tc := range []struct {
		name, dir, contract string
		want                error
	}{
		{"existing folder", existing, "counter", newcontract.ErrExists},
		{"bad name", filepath.Join(t.TempDir(), "x"), "Bad Name", nil},
		{"path in name", filepath.Join(t.TempDir(), "y"), "../y", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newcontract.Write(tc.dir, tc.contract, goVersion())
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want a refusal (%v)", err, tc.want)
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
