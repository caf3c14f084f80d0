//go:build unix

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type nodeJSON struct {
	Role        string `json:"role"`
	IdentityKey string `json:"identity_key"`
	Operator    string `json:"operator"`
	TEE         string `json:"tee"`
	TCBStatus   string `json:"tcb_status"`
	Active      bool   `json:"active"`
}

// TestRegisterSimWorkerThroughCLI registers a running sim worker on a
// devnet the way an operator does when its relay leaves registration to
// them: the runtime attests its own keys (the CLI never sees them), then a
// registration whose quote was tampered with gets the chain's readable
// refusal.
func TestRegisterSimWorkerThroughCLI(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	url, keys := d.url(), d.info.Keyring
	env := c.withEnv("PHALA_PASSPHRASE=" + devPassphrase)
	bob := d.info.address(t, "bob")
	whome := filepath.Join(t.TempDir(), "worker")
	w := newWorker(t, c, "worker", whome, filepath.Join(d.home, "config", "genesis.json"), bob)
	w.start()
	if !strings.Contains(w.srv.stderrText(), "sim TEE: no hardware protection") {
		t.Errorf("the sim TEE did not warn that it protects nothing:\n%s", w.srv.stderrText())
	}
	// The relay pays for the worker's heartbeats from another account than
	// the operator's, so the two never race for a nonce.
	rl := newServer(t, "relay", env, "relay", "--runtime", w.info.RelayAPI, "--worker-home", whome, "--key", "carol", "--manual-registration",
		"--node", url, "--keyring", keys, "--output", "json")
	rl.start()
	waitFor(t, 60*time.Second, "the runtime to verify a block", func() (bool, string, error) {
		st, err := w.status()
		if err != nil {
			return false, err.Error(), nil
		}
		return st.Height > 0, fmt.Sprintf("height %d", st.Height), rl.checkAlive()
	})
	register := func(extra ...string) result {
		args := append([]string{"tx", "register-worker", "--keyring", keys, "--from", "bob", "--node", url}, extra...)
		return c.runCtx(t.Context(), env, args...)
	}
	if r := register("--output", "json"); r.ok() || !strings.Contains(r.stderr, "--runtime") {
		t.Fatalf("register-worker without a runtime or evidence:\n%s", r)
	}

	if r := register("--runtime", w.info.RelayAPI, "--output", "json"); r.ok() || !strings.Contains(r.stderr, "--worker-home") {
		t.Fatalf("register-worker without the runtime's token:\n%s", r)
	}
	r := register("--runtime", w.info.RelayAPI, "--worker-home", whome, "--output", "json")
	if !r.ok() {
		t.Fatalf("register-worker failed:\n%s", r)
	}
	var reg struct {
		Height int64    `json:"height"`
		Node   nodeJSON `json:"node"`
	}
	if err := r.decode(&reg); err != nil {
		t.Fatal(err)
	}
	if reg.Node.Role != "worker" || !reg.Node.Active || reg.Node.TEE != "sim" || reg.Node.Operator != bob || reg.Node.IdentityKey != w.info.IdentityKey {
		t.Fatalf("registered node: %+v (runtime identity %s)", reg.Node, w.info.IdentityKey)
	}
	// The devnet's own two workers are registered too.
	var workers []nodeJSON
	c.mustJSON(&workers, "query", "workers", "--node", url, "--output", "json")
	found := map[string]bool{}
	for _, w := range workers {
		found[w.IdentityKey] = true
	}
	if len(workers) != 3 || !found[reg.Node.IdentityKey] || !found[d.info.Worker.IdentityKey] {
		t.Fatalf("query workers: %+v", workers)
	}

	// Attesting again keeps the runtime's sealed identity.
	again := register("--runtime", w.info.RelayAPI, "--worker-home", whome, "--output", "json")
	if !again.ok() || !strings.Contains(again.stdout, reg.Node.IdentityKey) {
		t.Fatalf("re-registration:\n%s", again)
	}

	// Evidence made by the runtime, tampered, then submitted: refused with a
	// reason.
	evidence := filepath.Join(t.TempDir(), "evidence.json")
	if r := register("--runtime", w.info.RelayAPI, "--worker-home", whome, "--evidence-out", evidence); !r.ok() {
		t.Fatalf("evidence-out:\n%s", r)
	}
	tampered := tamperQuote(t, evidence)
	bad := register("--evidence", tampered)
	if bad.ok() || hasPanic(bad.stderr) {
		t.Fatalf("a tampered quote was accepted:\n%s", bad)
	}
	if !strings.Contains(bad.stderr, "attestation refused") || !strings.Contains(bad.stderr, "signature") {
		t.Fatalf("refusal does not say why: %q", bad.stderr)
	}
	if good := register("--evidence", evidence); !good.ok() {
		t.Fatalf("the untampered evidence was refused:\n%s", good)
	}
}

// tamperQuote flips one byte of the quote in a registration file.
func tamperQuote(t *testing.T, path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	q, err := base64.StdEncoding.DecodeString(body["Quote"].(string))
	if err != nil {
		t.Fatal(err)
	}
	q[len(q)-5] ^= 0x01
	body["Quote"] = base64.StdEncoding.EncodeToString(q)
	out := filepath.Join(t.TempDir(), "tampered.json")
	b, _ := json.Marshal(body)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
