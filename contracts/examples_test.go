package contracts

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSourceIsTheExample: the embedded source of every example is its
// main.go byte for byte, and an unknown name is refused.
func TestSourceIsTheExample(t *testing.T) {
	for _, name := range Examples {
		got, err := Source(name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("embedded %s differs from %s/main.go", name, name)
		}
	}
	for _, bad := range []string{"", "internal", "token/main.go", "../sdk"} {
		if _, err := Source(bad); err == nil {
			t.Errorf("Source(%q) answered", bad)
		}
	}
}
