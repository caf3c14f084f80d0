package wasmbuild

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
)

func TestBuild(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "testdata", "probe")
	out := t.TempDir()
	a, err := Build(ctx, dir, filepath.Join(out, "a.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(ctx, dir, filepath.Join(out, "b.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash || len(a.Hash) != 64 || a.Size == 0 {
		t.Fatalf("builds differ or empty: %+v %+v", a, b)
	}
	bad := []string{filepath.Join(out, "missing"), ".."} // no such dir; not a main package with wasm exports
	for _, d := range bad {
		if _, err := Build(ctx, d, filepath.Join(out, "x.wasm")); !errors.Is(err, ErrBuild) {
			t.Errorf("Build(%s): %v, want ErrBuild", d, err)
		}
	}
}

// TestLanguageVersion: the toolchain's language version is 1.N, the form
// a go.mod's go line takes.
func TestLanguageVersion(t *testing.T) {
	v, err := LanguageVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^1\.\d+$`).MatchString(v) {
		t.Fatalf("language version %q", v)
	}
}
