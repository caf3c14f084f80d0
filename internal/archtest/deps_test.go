package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/phala-go/phala/"

// rules: packages under the key may not depend on any package under the values.
var rules = []struct {
	pkgs      string
	forbidden []string
}{
	{"codec/...", []string{"chain", "node", "network", "client", "worker", "relay", "vm", "token", "mq"}},
	{"crypto/...", []string{"chain", "node", "network", "client", "worker", "relay", "vm", "attest"}},
	{"mq/...", []string{"chain", "node", "network", "client", "worker", "relay", "vm"}},
	{"chain/...", []string{"node", "network", "client", "worker", "relay", "vm", "bench"}},
	{"node/...", []string{"chain", "network", "client", "worker", "relay", "vm"}},
	{"client/...", []string{"node", "network", "worker", "relay", "vm"}},
	// The trusted runtime never depends on the untrusted host's packages,
	// nor on the consensus application (it reads registry types only).
	{"worker/...", []string{"relay", "node", "network", "client", "bench", "chain/app", "chain/bank", "chain/egress", "chain/store"}},
	{"relaywire/...", []string{"chain", "node", "network", "client", "worker", "relay", "bench"}},
	{"relay/...", []string{"node", "network", "bench"}},
	// The contract VM is a leaf: it knows nothing of chains or enclaves.
	{"vm/...", []string{"chain", "node", "network", "client", "worker", "relay", "bench", "attest", "tee", "mq", "relaywire"}},
	{"sdk/...", []string{"chain", "node", "network", "client", "worker", "relay", "bench", "vm"}},
}

// external: packages under the key may not depend on these modules. The
// enclave reads chain types but never a database; linking one would only
// grow what must be trusted.
var external = []struct {
	pkgs      string
	forbidden []string
}{
	{"worker/...", []string{"github.com/cockroachdb/pebble"}},
	{"chain/state", []string{"github.com/cockroachdb/pebble"}},
}

func TestExternalDependencies(t *testing.T) {
	for _, r := range external {
		for _, dep := range deps(t, r.pkgs) {
			for _, f := range r.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", r.pkgs, dep)
				}
			}
		}
	}
}

// deps lists every package that the packages under pkgs depend on.
func deps(t *testing.T, pkgs string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-test=false", mod+pkgs).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkgs, err, out)
	}
	return strings.Fields(string(out))
}

func TestDependencyDirection(t *testing.T) {
	for _, r := range rules {
		for _, dep := range deps(t, r.pkgs) {
			rel, ours := strings.CutPrefix(dep, mod)
			if !ours {
				continue
			}
			for _, f := range r.forbidden {
				if rel == f || strings.HasPrefix(rel, f+"/") {
					t.Errorf("%s depends on %s, which DESIGN section 8 forbids", r.pkgs, rel)
				}
			}
		}
	}
}
