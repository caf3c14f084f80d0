//go:build unix

package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/internal/rpctest"
)

// TestTestnetRPCExposure runs two one-validator testnets as `phala node`
// processes: one laid out with --public-rpc, whose RPC must refuse the
// searches that scan the whole tx index and broadcast_tx_commit at once, and
// one with the defaults, on which `phala tx` and `phala query tx` (the `tx`
// lookup by hash) must keep working.
func TestTestnetRPCExposure(t *testing.T) {
	skipShort(t)
	c := newCLI(t)

	public, publicURL, _ := startTestnetNode(t, c, "public", "--hosts", "127.0.0.1", "--public-rpc")
	c.waitHeight(public, publicURL, 2, 60*time.Second)
	for call, want := range map[string]string{
		`tx_search?query="tx.height>0"`:       "transaction indexing is disabled",
		`block_search?query="block.height>0"`: "block indexing is disabled",
		`broadcast_tx_commit?tx="0x00"`:       "max_subscription_clients 0 reached",
	} {
		start := time.Now()
		msg := rpctest.ErrorOf(t, publicURL, call)
		if took := time.Since(start); !strings.Contains(msg, want) || took > 2*time.Second {
			t.Errorf("public node: %s answered %q in %v, want %q at once", call, msg, took, want)
		}
	}

	local, localURL, keys := startTestnetNode(t, c, "local")
	c.waitHeight(local, localURL, 2, 60*time.Second)
	var bob keyJSON
	c.mustJSON(&bob, "keys", "show", "bob", "--keyring", keys, "--output", "json")
	sent := c.mustTransfer(keys, bob.Address, localURL)
	got, err := c.tx(localURL, sent.Hash)
	if err != nil || got.Height != sent.Height || got.Code != 0 {
		t.Fatalf("query tx %s on the default node: %+v (%v), want block %d", sent.Hash, got, err, sent.Height)
	}
}

// startTestnetNode writes a one-validator testnet with the extra flags and
// starts its node, returning it, its RPC URL and the development keyring.
func startTestnetNode(t *testing.T, c *cli, name string, flags ...string) (*server, string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	base := freePortRange(t, 2)
	var layout struct {
		Homes   []string `json:"homes"`
		Keyring string   `json:"keyring"`
	}
	args := append([]string{"testnet", "--validators", "1", "--out", out, "--base-port", strconv.Itoa(base), "--output", "json"}, flags...)
	c.mustJSON(&layout, args...)
	if len(layout.Homes) != 1 {
		t.Fatalf("testnet printed %+v", layout)
	}
	srv := newServer(t, name, c.env, "node", "--home", layout.Homes[0], "--output", "json")
	t.Cleanup(func() {
		if t.Failed() {
			logTail(t, filepath.Join(layout.Homes[0], "logs", "cometbft.log"))
		}
	})
	srv.start()
	return srv, fmt.Sprintf("http://127.0.0.1:%d", base+1), layout.Keyring
}
