//go:build unix

package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
)

// exitUpgradeNeeded is the status of a node that stops for an upgrade it
// does not know (cmd/phala).
const exitUpgradeNeeded = 3

// TestNodeStopsForUnknownUpgrade runs one validator as a `phala node`
// process whose genesis names alice gov's unsafe dev admin, schedules an
// upgrade this binary does not know a few blocks ahead, and checks that
// the process exits by itself with the operator's message and status 3
// after committing the block before it; that the store is intact and ends
// at that block; and that starting the same binary again is refused with
// the same message and status.
func TestNodeStopsForUnknownUpgrade(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "testnet")
	base := freePortRange(t, 2)
	c.mustJSON(&struct{}{}, "testnet", "--validators", "1", "--out", out, "--base-port", strconv.Itoa(base),
		"--timeout-commit", "300ms", "--output", "json")
	home := filepath.Join(out, "node0")
	alice := ed25519.NewKeyFromSeed(keyring.DevSeed("alice"))
	nameDevAdmin(t, filepath.Join(home, "config", "genesis.json"), address.FromPublicKey(alice.Public().(ed25519.PublicKey)))

	url := fmt.Sprintf("http://127.0.0.1:%d", base+1)
	srv := newServer(t, "node", c.env, "node", "--home", home, "--output", "json")
	srv.start()
	now := c.waitHeight(srv, url, 2, 60*time.Second).Height

	cl, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	plan := govapi.Plan{Name: "v2-e2e", Height: now + 10, Info: "https://example.org/phala/v2-e2e"}
	inc, err := cl.Send(ctx, alice, govapi.MethodUpgrade, plan)
	if err != nil {
		t.Fatalf("scheduling: %v", err)
	}
	t.Logf("upgrade %s at %d scheduled in block %d", plan.Name, plan.Height, inc.Height)

	waitFor(t, 60*time.Second, "the node to exit by itself", func() (bool, string, error) {
		gone, _ := srv.exited()
		return gone, "still running", nil
	})
	_, runErr := srv.exited()
	want := fmt.Sprintf("upgrade v2-e2e scheduled by governance at height %d: this binary does not know it; "+
		"install the release that does (info: https://example.org/phala/v2-e2e) and restart", plan.Height)
	var exit *exec.ExitError
	if !errors.As(runErr, &exit) || exit.ExitCode() != exitUpgradeNeeded {
		t.Fatalf("node ended with %v, want exit status %d", runErr, exitUpgradeNeeded)
	}
	stderr := srv.stderrText()
	for _, w := range []string{"error: " + want, "upgrade scheduled", "blocks_left=1", "stopping for a software upgrade"} {
		if !strings.Contains(stderr, w) {
			t.Fatalf("stderr lacks %q:\n%s", w, srv.stderrTail())
		}
	}

	// The store is intact and holds every block up to the one before the
	// upgrade, none after.
	check := nodeCheck(t, c, home)
	if !check.OK {
		t.Fatalf("node check after the halt: %+v", check)
	}
	if tree := detail(check, "state tree"); !strings.Contains(tree, fmt.Sprintf("at height %d hash", plan.Height-1)) {
		t.Fatalf("state tree: %q, want height %d", tree, plan.Height-1)
	}

	if bs := detail(check, "block store"); !strings.Contains(bs, fmt.Sprintf("blocks 1–%d, consensus state at %d;", plan.Height-1, plan.Height-1)) {
		t.Fatalf("block store: %q, want CometBFT's blocks and state at %d", bs, plan.Height-1)
	}
	if log, err := os.ReadFile(filepath.Join(home, "logs", "cometbft.log")); err != nil || strings.Contains(string(log), "CONSENSUS FAILURE") {
		t.Fatalf("consensus did not stop cleanly (%v):\n%s", err, log)
	}

	// The same binary refuses to start on it, at once and with the same words.
	rctx, rcancel := context.WithTimeout(context.Background(), failFast)
	defer rcancel()
	r := c.runCtx(rctx, c.env, "node", "--home", home)
	if r.err != nil || r.code != exitUpgradeNeeded || !strings.Contains(r.stderr, want) || hasPanic(r.stderr) {
		t.Fatalf("restart: %v", r)
	}
}

func detail(c checkJSON, name string) string {
	for _, ch := range c.Checks {
		if ch.Name == name {
			return ch.Detail
		}
	}
	return ""
}

// nameDevAdmin sets gov's unsafe_dev_admin in a genesis file that no node
// has started from yet.
func nameDevAdmin(t *testing.T, path string, admin address.Address) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	var appState map[string]json.RawMessage
	var g map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc["app_state"], &appState); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(appState[govapi.Name], &g); err != nil {
		t.Fatal(err)
	}
	set := func(m map[string]json.RawMessage, k string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		m[k] = b
	}
	set(g, "unsafe_dev_admin", admin)
	set(appState, govapi.Name, g)
	set(doc, "app_state", appState)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
