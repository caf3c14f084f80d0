//go:build unix

package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A new user's first hour (issue 11): what the binary prints should be
// said once, and long work should say up front how long it takes.

const simBanner = "sim TEE: no hardware protection"

// TestDevnetWarnsOnceAboutTheSimTEE: the devnet runs two sim TEE nodes in
// one process; the warning is printed once, not once per node.
func TestDevnetWarnsOnceAboutTheSimTEE(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	if n := strings.Count(d.srv.stderrText(), simBanner); n != 1 {
		t.Fatalf("the sim TEE warning appears %d times:\n%s", n, d.srv.stderrText())
	}
	if n := strings.Count(d.srv.stderrText(), devAdminBanner); n != 1 {
		t.Fatalf("the unsafe dev admin warning appears %d times:\n%s", n, d.srv.stderrText())
	}
}

// devAdminBanner is how a development chain's node says its genesis
// names an unsafe dev admin.
const devAdminBanner = "privileged changes need no proposal; development only"

// TestTestnetNodeSaysItStartedOnce: a testnet validator prints one start
// line (stdout), not a second near-identical one on stderr.
func TestTestnetNodeSaysItStartedOnce(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "testnet")
	base := freePortRange(t, 2)
	if r := c.run("testnet", "--validators", "1", "--out", out, "--base-port", strconv.Itoa(base)); !r.ok() {
		t.Fatalf("testnet:\n%s", r)
	}
	node := newServer(t, "node0", c.env, "node", "--home", filepath.Join(out, "node0"))
	node.start()
	url := fmt.Sprintf("http://127.0.0.1:%d", base+1)
	c.waitHeight(node, url, 2, 60*time.Second)
	both := node.stdoutText() + node.stderrText()
	if n := strings.Count(both, "validator of phala-testnet running"); n != 1 || !strings.Contains(node.stdoutText(), url) {
		t.Fatalf("start line printed %d times (stdout %q), want once with %s", n, node.stdoutText(), url)
	}
	if !strings.Contains(node.stderrText(), "unsafe dev admin") || !strings.Contains(node.stderrText(), devAdminBanner) {
		t.Fatalf("a development testnet's node does not warn of its unsafe dev admin:\n%s", node.stderrText())
	}
}

// TestBenchSaysHowLongItTakes: the transfer benchmark states its total
// time before the first run starts.
func TestBenchSaysHowLongItTakes(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	b := newServer(t, "bench", c.env, "bench", "transfers", "--duration", "2s")
	b.start()
	defer b.kill()
	waitFor(t, 60*time.Second, "the bench to announce its length", func() (bool, string, error) {
		return strings.Contains(b.stderrText(), "about 26s in all"), b.stderrTail(), nil
	})
	var said []string // the bench's own lines, without the harness's run headers
	for _, line := range strings.Split(b.stderrText(), "\n") {
		if !strings.HasPrefix(line, "=== ") {
			said = append(said, line)
		}
	}
	if !strings.Contains(said[0], "about 26s in all") {
		t.Fatalf("the length is not said first: %q", said[0])
	}
}
