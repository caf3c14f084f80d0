//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Issue 11, item 3: the devnet writes a client config, so client commands
// find a devnet on any port without --node; flags and the environment
// override it, and a config naming another chain is refused.

// clientConfigJSON is the file ~/.phala/client.json.
type clientConfigJSON struct {
	Node      string `json:"node"`
	ChainID   string `json:"chain_id"`
	Keyring   string `json:"keyring"`
	WrittenBy string `json:"written_by"`
}

// userCLI is a cli whose ~/.phala is the default client home: no
// PHALA_HOME, and none of the client variables of the caller's shell.
func userCLI(t *testing.T) (c *cli, dotPhala string) {
	c = newCLI(t)
	var env []string
	home := ""
	for _, kv := range c.env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PHALA_HOME", "PHALA_NODE", "PHALA_KEYRING", "PHALA_CLIENT_CONFIG":
			continue
		case "HOME":
			home = v
		}
		env = append(env, kv)
	}
	c.env = env
	return c, filepath.Join(home, ".phala")
}

func readClientConfig(t *testing.T, path string) clientConfigJSON {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the client config: %v", err)
	}
	var cfg clientConfigJSON
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("the client config %s: %v\n%s", path, err, b)
	}
	return cfg
}

func writeClientConfig(t *testing.T, path string, cfg clientConfigJSON) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// statusWithEnv runs `query status` with extra environment and args,
// and no --node unless args has one.
func (c *cli) statusWithEnv(extraEnv []string, args ...string) result {
	return c.runCtx(context.Background(), c.withEnv(extraEnv...), append([]string{"query", "status", "--timeout", "5s", "-o", "json"}, args...)...)
}

func TestClientConfigFollowsTheDevnet(t *testing.T) {
	skipShort(t)
	c, dotPhala := userCLI(t)
	d := startDevnet(t, c, "--no-worker")
	path := filepath.Join(dotPhala, "client.json")

	if line := "client config " + path + " points at this devnet"; !strings.Contains(d.srv.stderrText(), line) {
		t.Fatalf("devnet stderr does not say %q:\n%s", line, d.srv.stderrText())
	}
	cfg := readClientConfig(t, path)
	if cfg.Node != d.url() || cfg.ChainID != "phala-devnet" || cfg.Keyring != d.info.Keyring || cfg.WrittenBy != "phala devnet" {
		t.Fatalf("devnet wrote %+v, want node %s, chain phala-devnet, keyring %s", cfg, d.url(), d.info.Keyring)
	}

	// No --node, no --keyring: the config supplies both ("bob" is a key
	// name, found in the devnet's keyring).
	var st statusJSON
	if err := c.statusWithEnv(nil).decode(&st); err != nil || st.ChainID != "phala-devnet" {
		t.Fatalf("query status without --node: %+v %v", st, err)
	}
	var bob accountJSON
	c.mustJSON(&bob, "query", "balance", "bob", "-o", "json")
	if bob.balance(t).Sign() <= 0 || bob.Address != d.info.address(t, "bob") {
		t.Fatalf("query balance bob without --node: %+v", bob)
	}

	// A config pointing at a dead port: PHALA_NODE and --node override it,
	// and --node beats PHALA_NODE.
	dead := fmt.Sprintf("http://127.0.0.1:%d", freePorts(t, 1)[0])
	writeClientConfig(t, path, clientConfigJSON{Node: dead, ChainID: "phala-devnet", Keyring: d.info.Keyring})
	if r := c.statusWithEnv(nil); r.ok() {
		t.Fatalf("query status with the config at a dead node succeeded: %s", r)
	}
	for name, r := range map[string]result{
		"PHALA_NODE":             c.statusWithEnv([]string{"PHALA_NODE=" + d.url()}),
		"--node":                 c.statusWithEnv(nil, "--node", d.url()),
		"--node over PHALA_NODE": c.statusWithEnv([]string{"PHALA_NODE=" + dead}, "--node", d.url()),
	} {
		if err := r.decode(&st); err != nil {
			t.Fatalf("%s did not override the config: %v", name, err)
		}
	}

	// A config naming another chain (a stale devnet) is refused, clearly;
	// a --node given explicitly is not held to the file's chain.
	writeClientConfig(t, path, clientConfigJSON{Node: d.url(), ChainID: "phala-old", Keyring: d.info.Keyring})
	r := c.statusWithEnv(nil)
	if r.ok() || !strings.Contains(r.stderr, `on chain "phala-devnet"`) || !strings.Contains(r.stderr, `names chain "phala-old"`) || !strings.Contains(r.stderr, path) {
		t.Fatalf("a config naming another chain was not refused clearly:\n%s", r)
	}
	if err := c.statusWithEnv(nil, "--node", d.url()).decode(&st); err != nil {
		t.Fatalf("--node with a stale config: %v", err)
	}

	// config show says where each value comes from.
	var show struct {
		Node struct{ Value, Source string } `json:"node"`
	}
	c.mustJSONEnv(&show, []string{"PHALA_NODE=" + d.url()}, "config", "show", "-o", "json")
	if show.Node.Value != d.url() || show.Node.Source != "env PHALA_NODE" {
		t.Fatalf("config show: node %+v, want %s from env PHALA_NODE", show.Node, d.url())
	}
}

// TestTestnetWritesClientConfig: phala testnet --out DIR writes DIR/client.json
// pointing at validator 0, usable through PHALA_CLIENT_CONFIG.
func TestTestnetWritesClientConfig(t *testing.T) {
	skipShort(t)
	c, _ := userCLI(t)
	out := filepath.Join(t.TempDir(), "testnet")
	base := freePortRange(t, 4)
	r := c.run("testnet", "--validators", "2", "--out", out, "--base-port", strconv.Itoa(base))
	if !r.ok() || !strings.Contains(r.stdout, "PHALA_CLIENT_CONFIG="+filepath.Join(out, "client.json")) {
		t.Fatalf("testnet did not say how to use its client config:\n%s", r)
	}
	cfg := readClientConfig(t, filepath.Join(out, "client.json"))
	want := clientConfigJSON{Node: fmt.Sprintf("http://127.0.0.1:%d", base+1), ChainID: "phala-testnet", Keyring: filepath.Join(out, "keys"), WrittenBy: "phala testnet"}
	if cfg != want {
		t.Fatalf("testnet wrote %+v, want %+v", cfg, want)
	}
}
