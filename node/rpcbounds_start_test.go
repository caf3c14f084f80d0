package node

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/internal/rpctest"
)

// TestPublicRPCRefusesCostlyCalls starts a node laid out with --public-rpc
// defaults and checks the calls that cost the node a scan of its index or a
// held subscription are refused at once, while the chain stays readable.
// (127.0.0.1 with PublicRPC gets the same bounds as a public address.)
func TestPublicRPCRefusesCostlyCalls(t *testing.T) {
	homes, err := WriteTestnet(Testnet{
		Validators: 1, OutDir: t.TempDir(), Hosts: []string{"127.0.0.1"}, PublicRPC: true,
		BasePort: freeRange(t, 2), Timing: testTiming(),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := startTest(t, homes[0], &testApp{})
	if err := n.WaitHeight(testCtx(t, 20*time.Second), 3); err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		`tx_search?query="tx.height>0"`:       "indexing is disabled",
		`block_search?query="block.height>0"`: "indexing is disabled",
		`broadcast_tx_commit?tx="a=1"`:        "max_subscription_clients 0 reached",
	}
	for call, want := range refused {
		start := time.Now()
		msg := rpctest.ErrorOf(t, n.RPCURL(), call)
		if took := time.Since(start); !strings.Contains(msg, want) || took > time.Second {
			t.Errorf("%s: answered %q in %v, want an error containing %q at once", call, msg, took, want)
		}
	}
	if msg := rpctest.ErrorOf(t, n.RPCURL(), "status"); msg != "" {
		t.Errorf("status refused: %s", msg)
	}
}

// TestLoopbackRPCFindsTxByHash: the default layout keeps the kv index,
// because `phala tx` and `phala query tx` look transactions up by hash.
func TestLoopbackRPCFindsTxByHash(t *testing.T) {
	homes, err := WriteTestnet(Testnet{Validators: 1, OutDir: t.TempDir(), BasePort: freeRange(t, 2), Timing: testTiming()})
	if err != nil {
		t.Fatal(err)
	}
	n := startTest(t, homes[0], &testApp{})
	ctx := testCtx(t, 20*time.Second)
	if err := n.WaitHeight(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if msg := rpctest.ErrorOf(t, n.RPCURL(), `broadcast_tx_sync?tx="k=v"`); msg != "" {
		t.Fatalf("broadcast_tx_sync: %s", msg)
	}
	for tick := time.NewTicker(50 * time.Millisecond); ; <-tick.C {
		msg := rpctest.ErrorOf(t, n.RPCURL(), "tx?hash="+txHashHex("k=v"))
		if msg == "" {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("tx by hash: %s", msg)
		}
	}
}

// txHashHex is the hash CometBFT indexes a transaction under, in the form
// its URI calls take.
func txHashHex(tx string) string {
	sum := sha256.Sum256([]byte(tx))
	return "0x" + hex.EncodeToString(sum[:])
}
