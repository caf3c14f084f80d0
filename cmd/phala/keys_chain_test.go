package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/network"
)

// runPhala runs the root command with args and returns what it printed on
// stdout (emit writes there directly).
func runPhala(t *testing.T, args ...string) (string, error) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdout
	os.Stdout = f
	defer func() { os.Stdout, outputFormat = saved, "text" }() // the flag's variable is global
	root := newRoot()
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	runErr := root.Execute()
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(out), runErr
}

// TestKeysCommandsOnDevnet runs the keys transactions and queries of the
// CLI against a devnet in this process, in JSON.
func TestKeysCommandsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	d := startCLIDevnet(t, nil)
	conn := d.conn
	admin := append([]string{"--from", "alice", "--keyring", network.KeyringDir(d.home)}, conn...)
	worker := strings.Repeat("ab", 32)

	steps := []struct {
		name string
		args []string
		want error  // a module error the command must return
		text string // else: a substring of the error, or of the JSON output
	}{
		{"create a cluster", append([]string{"tx", "create-cluster", "--id", "c1"}, admin...), nil, `"height"`},
		{"bad cluster id refused before sending", append([]string{"tx", "create-cluster", "--id", "a b"}, admin...), keysapi.ErrInvalid, ""},
		{"duplicate cluster", append([]string{"tx", "create-cluster", "--id", "c1"}, admin...), keysapi.ErrClusterExists, ""},
		{"assign an unregistered worker", append([]string{"tx", "assign-worker", "--cluster", "c1", "--worker", worker}, admin...), keysapi.ErrNotWorker, ""},
		{"assign with a bad key", append([]string{"tx", "assign-worker", "--cluster", "c1", "--worker", "zz"}, admin...), nil, "64 hex digits"},
		{"rotate while generation 1 pends", append([]string{"tx", "rotate-master-key"}, admin...), keysapi.ErrRotationPending, ""},
		{"query clusters", append([]string{"query", "clusters"}, conn...), nil, `"id": "c1"`},
		{"query one cluster", append([]string{"query", "cluster", "c1"}, conn...), nil, `"public_keys": []`},
		{"query master key", append([]string{"query", "master-key"}, conn...), nil, `"pending": 1`},
		{"query the key of a contract never instantiated", append([]string{"query", "contract-key", "--cluster", "c1", "--contract", "0102"}, conn...), module.ErrNotFound, ""},
	}
	for _, s := range steps {
		out, err := runPhala(t, s.args...)
		switch {
		case s.want != nil:
			if !errors.Is(err, s.want) {
				t.Fatalf("%s: %v, want %v", s.name, err, s.want)
			}
		case err != nil:
			if s.text == "" || !strings.Contains(err.Error(), s.text) {
				t.Fatalf("%s: %v", s.name, err)
			}
		default:
			var v any
			if json.Unmarshal([]byte(out), &v) != nil || !strings.Contains(out, s.text) {
				t.Fatalf("%s: output %q, want JSON with %s", s.name, out, s.text)
			}
		}
	}
}
