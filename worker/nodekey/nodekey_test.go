package nodekey

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/phala-go/phala/tee/sim"
)

func simPlatform(t *testing.T, dir string, m byte) *sim.Sim {
	p, err := sim.New(sim.WithDir(dir), sim.WithMeasurement([32]byte{m}), sim.WithWarnings(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.sealed")
	p := simPlatform(t, dir, 1)
	k, created, err := LoadOrCreate(p, path, "c")
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	again, created, err := LoadOrCreate(p, path, "c")
	if err != nil || created {
		t.Fatalf("reload: %v %v", created, err)
	}
	if !again.IdentityPublic().Equal(k.IdentityPublic()) || string(again.EncryptionPublic()) != string(k.EncryptionPublic()) {
		t.Fatal("reloaded keys differ")
	}

	tests := []struct {
		name  string
		setup func() (platformMeasurement byte, chain string)
	}{
		{"another enclave", func() (byte, string) { return 2, "c" }},
		{"another chain", func() (byte, string) { return 1, "d" }},
		{"tampered file", func() (byte, string) {
			b, _ := os.ReadFile(path)
			b[len(b)-1] ^= 1
			os.WriteFile(path+".bad", b, 0o600)
			return 1, "c"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, chain := tc.setup()
			file := path
			if tc.name == "tampered file" {
				file = path + ".bad"
			}
			if _, _, err := LoadOrCreate(simPlatform(t, dir, m), file, chain); err == nil {
				t.Fatal("refused keys loaded")
			}
		})
	}
}
