package node

import (
	"os"
	"strings"
	"testing"
	"time"
)

// checkRPCBounds checks the RPC bounds written into h's config.toml, as
// CometBFT will read them back.
func checkRPCBounds(t *testing.T, h Home, wantIndex string, public bool) {
	t.Helper()
	c, err := loadConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	subs, perClient := 10, 2
	if public {
		subs, perClient = 0, 0
	}
	r := c.RPC
	got := []any{c.TxIndex.Indexer, r.MaxSubscriptionClients, r.MaxSubscriptionsPerClient, r.TimeoutBroadcastTxCommit,
		r.MaxBodyBytes, r.MaxHeaderBytes, r.MaxOpenConnections, r.MaxRequestBatchSize, r.Unsafe, r.PprofListenAddress}
	want := []any{wantIndex, subs, perClient, 5 * time.Second,
		int64(2 << 20), 64 << 10, 256, 10, false, ""}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: rpc bounds %v, want %v", h, got, want)
			break
		}
	}
}

func TestRPCBoundsInConfigFile(t *testing.T) {
	// The bounds are in the file itself (not only CometBFT's defaults at
	// load time), so an operator reads what the node enforces.
	home := Home(t.TempDir())
	if err := InitSingle(home, InitOptions{Ports: Ports{P2P: 40001, RPC: 40002}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(home.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`laddr = "tcp://127.0.0.1:40002"`, `laddr = "tcp://127.0.0.1:40001"`, `indexer = "kv"`,
		"max_subscription_clients = 10", "max_subscriptions_per_client = 2", `timeout_broadcast_tx_commit = "5s"`,
		"max_body_bytes = 2097152", "max_header_bytes = 65536", "max_open_connections = 256",
	} {
		if !strings.Contains(string(b), line+"\n") {
			t.Errorf("config.toml lacks %q", line)
		}
	}
	checkRPCBounds(t, home, "kv", false)
}

func TestTxIndexChoice(t *testing.T) {
	tests := []struct {
		rpcHost, asked, want string
		public               bool
	}{
		{rpcHost: "127.0.0.1", public: true, want: "null"},
		{rpcHost: "127.0.0.1", want: "kv"},
		{rpcHost: "localhost", want: "kv"},
		{rpcHost: "::1", want: "kv"},
		{rpcHost: "10.0.0.1", want: "null"},
		{rpcHost: "0.0.0.0", want: "null"},
		{rpcHost: "val.example", want: "null"},
		{rpcHost: "10.0.0.1", asked: "kv", want: "kv"},
		{rpcHost: "127.0.0.1", asked: "null", want: "null"},
	}
	for _, tc := range tests {
		nc := nodeConfig{RPCHost: tc.rpcHost, PublicRPC: tc.public, TxIndex: tc.asked}
		if got := nc.txIndex(); got != tc.want {
			t.Errorf("rpc on %s (public %v), asked %q: indexer %q, want %q", tc.rpcHost, tc.public, tc.asked, got, tc.want)
		}
	}
}

func TestWriteTestnetExposureErrors(t *testing.T) {
	for _, tc := range []struct {
		tn   Testnet
		want string
	}{
		{Testnet{Validators: 1, OutDir: t.TempDir(), PublicRPC: true}, "needs --hosts"},
		{Testnet{Validators: 1, OutDir: t.TempDir(), TxIndex: "psql"}, `tx index "psql"`},
	} {
		if _, err := WriteTestnet(tc.tn); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want containing %q", tc.tn, err, tc.want)
		}
	}
}
