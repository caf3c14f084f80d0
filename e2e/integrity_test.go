//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/internal/damagetest"
)

// stoppedDevnetHome runs a devnet to a few blocks and kills it, leaving a
// home with chain data and no running process.
func stoppedDevnetHome(t *testing.T, c *cli) string {
	t.Helper()
	d := startDevnet(t, c, "--no-worker")
	c.waitHeight(d.srv, d.url(), 3, 30*time.Second)
	d.srv.kill()
	return d.home
}

// refusedStart runs the devnet on home, which must exit with an error
// naming want and the remedy, and no stack dump.
func refusedStart(t *testing.T, c *cli, home string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failFast)
	defer cancel()
	r := c.runCtx(ctx, c.env, "devnet", "--home", home, "--no-worker")
	if r.err != nil || r.code == 0 {
		t.Fatalf("start was not refused: %v", r)
	}
	t.Logf("refused: %s", r.stderr)
	for _, w := range append(want, "restore") {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("stderr lacks %q: %v", w, r)
		}
	}
	if hasPanic(r.stderr) || strings.Contains(r.stderr, "goroutine") {
		t.Fatalf("stack dump on stderr: %v", r)
	}
}

type checkJSON struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// nodeCheck runs `phala node check`; its exit code must agree with ok.
func nodeCheck(t *testing.T, c *cli, home string) checkJSON {
	t.Helper()
	r := c.run("node", "check", "--home", home, "--output", "json")
	var out checkJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("node check printed no JSON: %v", r)
	}
	if out.OK != (r.code == 0) || r.err != nil {
		t.Fatalf("node check exit code disagrees with its report: %v", r)
	}
	return out
}

func (c checkJSON) passed(name string) bool {
	for _, ch := range c.Checks {
		if ch.Name == name {
			return ch.OK
		}
	}
	return false
}

func (c checkJSON) failed(name string) string {
	for _, ch := range c.Checks {
		if ch.Name == name && !ch.OK {
			return ch.Detail
		}
	}
	return ""
}

func TestDamagedBlockStoreRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	if out := nodeCheck(t, c, home); !out.OK || !out.passed("state tree") {
		t.Fatalf("a healthy home failed its check (or verified no state tree): %+v", out)
	}
	damagetest.FlipCometStore(t, filepath.Join(home, "data", "blockstore.db"))
	refusedStart(t, c, home, "block store", "blockstore.db")
	if d := nodeCheck(t, c, home).failed("block store"); !strings.Contains(d, "damaged") {
		t.Fatalf("node check did not report the block store: %q", d)
	}
}

func TestMissingValidatorKeyRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	keyFile := filepath.Join(home, "config", "priv_validator_key.json")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	refusedStart(t, c, home, "priv_validator_key.json")
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new validator key was generated")
	}
	if d := nodeCheck(t, c, home).failed("validator key"); !strings.Contains(d, "missing") {
		t.Fatalf("node check did not report the key: %q", d)
	}
}

func TestEditedBalanceRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	damagetest.EditFirstBalance(t, filepath.Join(home, "data", "app"))
	refusedStart(t, c, home, "supply", "data/app")
	if d := nodeCheck(t, c, home).failed("application state"); !strings.Contains(d, "supply") {
		t.Fatalf("node check did not report the supply: %q", d)
	}
	text := c.run("node", "check", "--home", home)
	if text.code == 0 || !strings.Contains(text.stdout, "FAILED") {
		t.Fatalf("text check: %v", text)
	}
}

func TestDamagedAppStoreRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	dir := filepath.Join(home, "data", "app")
	damagetest.FlipAppStore(t, dir)
	refusedStart(t, c, home, "application state store", "data/app")
	if d := nodeCheck(t, c, home).failed("application state"); !strings.Contains(d, "damaged") {
		t.Fatalf("node check did not report the application store: %q", d)
	}
}
