package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/phala-go/phala/"

// A pattern names one package ("chain/keys") or a package and everything
// under it ("chain/keys/...").
func matches(pattern, pkg string) bool {
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == pattern
}

// handlers are the chain's module and application packages: state access
// and transaction handlers. Clients, relays and enclaves read the modules'
// wire forms (the *api packages and mq) instead.
var handlers = []string{
	"chain/app", "chain/app/apptest", "chain/store", "chain/snapshot", "chain/bank", "chain/registry", "chain/keys", "chain/mq",
	"chain/contracts",
}

// rules: packages matching the key may not depend on packages matching the
// values (DESIGN section 8 and the restructure of issue 10).
var rules = []struct {
	pkgs      string
	forbidden []string
}{
	{"codec/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "token/...", "mq/..."}},
	{"crypto/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "attest/..."}},
	{"mq/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/..."}},
	{"chain/...", []string{"node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "bench/...", "tee/..."}},
	{"node/...", []string{"chain/...", "network/...", "client/...", "worker/...", "relay/...", "vm/..."}},
	{"client/...", append([]string{"node/...", "network/...", "worker/...", "relay/...", "vm/...", "lightproof/..."}, handlers...)},
	{"relay/...", append([]string{"node/...", "network/...", "bench/...", "worker/...", "lightproof/..."}, handlers...)},
	// lightproof (proven reads) reads wire forms like a client, and the
	// proof checker; never the application, the store or the node.
	{"lightproof/...", append([]string{"node/...", "network/...", "worker/...", "relay/...", "vm/...", "bench/..."}, handlers...)},
	// The trusted runtime never depends on the untrusted host's packages,
	// nor on the consensus application or module handlers.
	{"worker/...", append([]string{"relay/...", "node/...", "network/...", "client/...", "bench/...", "lightproof/..."}, handlers...)},
	{"relaywire/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "bench/..."}},
	// The contract VM is a leaf: it knows nothing of chains or enclaves.
	{"vm/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "bench/...", "attest/...", "tee/...", "mq/...", "relaywire/..."}},
	// The enclave's modules know nothing of the loop that drives them, of
	// verification or of the servers; the module contract knows no module.
	{"worker/enclave/module", []string{"worker/enclave", "worker/enclave/registryview", "worker/enclave/keys", "worker/enclave/outbox", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	{"worker/enclave/registryview", []string{"worker/enclave", "worker/enclave/keys", "worker/enclave/rewards", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	{"worker/enclave/keys", []string{"worker/enclave", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	{"worker/enclave/rewards", []string{"worker/enclave", "worker/enclave/keys", "worker/enclave/contracts/...", "worker/lightclient/...", "worker/api/...", "worker/service/...", "worker/benchmark"}},
	{"worker/enclave/outbox", []string{"worker/enclave", "worker/enclave/registryview", "worker/enclave/keys", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	{"worker/enclave/keystore", []string{"worker/enclave", "worker/enclave/registryview", "worker/enclave/keys", "worker/enclave/outbox", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	// The state tree is pure and knows no module; its file store knows
	// only the tree.
	{"worker/enclave/statetree", []string{"worker/enclave", "worker/enclave/contracts/...", "worker/enclave/pagefile", "worker/enclave/module", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	{"worker/enclave/pagefile", []string{"worker/enclave", "worker/enclave/contracts/...", "worker/enclave/module", "worker/lightclient/...", "worker/api/...", "worker/service/..."}},
	{"sdk/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "bench/...", "vm/..."}},
	// The demo is a client: it reaches the network through the client and
	// finds it through the home's endpoints record, never the node or the
	// enclave's code.
	{"demo/...", append([]string{"node/...", "network", "network/devworker", "worker/...", "relay/...", "lightproof/...", "bench/..."}, handlers...)},
	{"network/endpoints", []string{"chain/...", "node/...", "network", "network/devworker", "client/...", "worker/...", "relay/..."}},
	// Leaves: nothing of ours but the few leaves they build on.
	{"attest/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "tee/...", "identity/...", "token/...", "mq/..."}},
	{"tee/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "identity/...", "token/...", "mq/..."}},
	{"identity/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "attest/...", "tee/...", "token/...", "mq/..."}},
	{"token/...", []string{"chain/...", "node/...", "network/...", "client/...", "worker/...", "relay/...", "vm/...", "attest/...", "tee/...", "identity/...", "mq/...", "crypto/..."}},
}

// leaves may import nothing of this module at all.
var leaves = []string{"vm/abi", "errs", "token", "cmtwire", "tokenomics/fixed"}

// heavy is what the enclave, the client and the relay must not link: a
// database, an RPC framework, test libraries. Each is attack surface and
// memory inside a TEE and weight in every client.
// CometBFT is linked there only for its protobuf types and Merkle hashing:
// not its RPC stack, its consensus types or its databases.
var heavy = []string{
	"github.com/cockroachdb/pebble", "google.golang.org/grpc", "github.com/stretchr/testify", "testing",
	"github.com/cometbft/cometbft/types", "github.com/cometbft/cometbft/rpc", "github.com/cometbft/cometbft/abci",
	"github.com/cometbft/cometbft-db",
}

// external: packages matching the key may not depend on these modules.
//
// lightproof is deliberately absent: it is the one package outside the
// node that links CometBFT's light client (github.com/cometbft/cometbft/light),
// the reference verifier of headers from a trusted validator set, rather
// than a second one of ours. That package links CometBFT's types, its RPC
// client (through its HTTP provider) and with them gRPC, a database and
// testify, so it stays out of client, relay and worker (the rules above
// forbid them to import it), and only programs that want verified answers
// (the CLI, which links the node anyway) pay for it. TestLightproofOnlyLight
// checks it links the light client and no consensus or node machinery.
var external = []struct {
	pkgs      string
	forbidden []string
}{
	{"worker/...", heavy},
	{"client/...", heavy},
	{"demo/...", heavy},
	{"relay/...", heavy},
	{"relaywire/...", heavy},
	{"cometrpc/...", heavy},
	{"cmtwire/...", heavy},
	{"chain/state", []string{"github.com/cockroachdb/pebble"}},
	{"chain/module", []string{"github.com/cometbft/cometbft"}},
	{"vm/abi/...", []string{"github.com/tetratelabs/wazero"}},
}

func TestExternalDependencies(t *testing.T) {
	for _, r := range external {
		for _, dep := range productionDeps(t, r.pkgs) {
			for _, f := range r.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", r.pkgs, dep)
				}
			}
		}
	}
}

// TestLightproofOnlyLight: lightproof may link CometBFT for its light
// client, but not the node, consensus, mempool or state machinery.
func TestLightproofOnlyLight(t *testing.T) {
	forbidden := []string{
		"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/internal/consensus",
		"github.com/cometbft/cometbft/mempool", "github.com/cometbft/cometbft/state",
		"github.com/cometbft/cometbft/store",
	}
	var light bool
	for _, dep := range productionDeps(t, "lightproof/...") {
		light = light || dep == "github.com/cometbft/cometbft/light"
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("lightproof depends on %s", dep)
			}
		}
	}
	if !light {
		t.Errorf("lightproof no longer links CometBFT's light client: update this test and the comment on external")
	}
}

// testSupport are the packages that exist only for tests: they may use the
// testing package, and nothing a program links may import them.
var testSupport = []string{
	"chain/app/apptest", "internal/devnettest", "internal/devnettest/teedevnet", "internal/chaingen",
	"worker/enclave/enclavetest", "contracts/internal/contracttest", "internal/damagetest", "internal/rpctest",
}

func isTestSupport(pkg string) bool {
	return slices.Contains(testSupport, strings.TrimPrefix(pkg, mod))
}

// productionDeps is deps over the packages under pkgs that are not test
// support.
func productionDeps(t *testing.T, pkgs string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", mod+pkgs).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkgs, err, out)
	}
	args := []string{"list", "-deps", "-test=false"}
	for _, p := range strings.Fields(string(out)) {
		if !isTestSupport(p) {
			args = append(args, p)
		}
	}
	out, err = exec.Command("go", args...).CombinedOutput() // one call for them all
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkgs, err, out)
	}
	return strings.Fields(string(out))
}

// deps lists every package that the packages under pkgs depend on, tests
// excluded.
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
				if matches(f, rel) {
					t.Errorf("%s depends on %s, which DESIGN section 8 forbids", r.pkgs, rel)
				}
			}
		}
	}
}

// pure are the enclave's modules: their steps return effects and do no I/O
// themselves, so they import nothing that reaches files, the network or
// the system's randomness (the loop does, in its durability order).
var pure = []string{"worker/enclave/module", "worker/enclave/registryview", "worker/enclave/keys", "worker/enclave/outbox", "worker/enclave/contracts", "worker/enclave/statetree", "worker/enclave/rewards"}

var ioPackages = []string{"os", "io/fs", "io/ioutil", "net", "net/http", "crypto/rand", "math/rand", "math/rand/v2"}

func TestModulesDoNoIO(t *testing.T) {
	for _, p := range pure {
		out, err := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", mod+p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", p, err, out)
		}
		for _, imp := range strings.Fields(string(out)) {
			if slices.Contains(ioPackages, imp) {
				t.Errorf("%s imports %s: modules return effects and leave I/O to the loop", p, imp)
			}
		}
	}
}

func TestLeavesImportNothingOfOurs(t *testing.T) {
	for _, leaf := range leaves {
		for _, dep := range deps(t, leaf) {
			if rel, ours := strings.CutPrefix(dep, mod); ours && rel != leaf {
				t.Errorf("%s is a leaf but depends on %s", leaf, rel)
			}
		}
	}
}

// TestTestSupportOnlyInTests: packages that drive a whole application for
// tests are linked only into tests and other test support, never into a
// package a program can reach.
func TestTestSupportOnlyInTests(t *testing.T) {
	out, err := exec.Command("go", "list", "-test=false", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		if isTestSupport(pkg) || strings.HasPrefix(pkg, "bench") {
			continue // test support may build on test support; benchmarks generate chains
		}
		for _, dep := range fields[1:] {
			if rel, ours := strings.CutPrefix(dep, mod); ours && isTestSupport(rel) {
				t.Errorf("%s links test support %s", pkg, rel)
			}
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		pattern, pkg string
		want         bool
	}{
		{"chain/keys", "chain/keys", true},
		{"chain/keys", "chain/keys/keysapi", false},
		{"chain/keys/...", "chain/keys/keysapi", true},
		{"chain/keys/...", "chain/keys", true},
		{"chain/keys/...", "chain/keysx", false},
	}
	for _, tc := range tests {
		if got := matches(tc.pattern, tc.pkg); got != tc.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tc.pattern, tc.pkg, got, tc.want)
		}
	}
}
