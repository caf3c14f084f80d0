package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"
)

func TestWriteTestnet(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", "val3.example", "10.0.0.4"}
	loopback := func(int) string { return "127.0.0.1" }
	tests := []struct {
		name      string
		hosts     []string
		publicRPC bool
		// where node i's P2P and RPC listen, and its tx indexer
		wantP2P, wantRPC func(i int) string
		wantIndex        string
		wantPorts        func(base, i int) Ports
	}{
		{
			name:    "one host",
			wantP2P: loopback, wantRPC: loopback, wantIndex: "kv",
			wantPorts: func(base, i int) Ports { return Ports{base + 2*i, base + 2*i + 1} },
		},
		{
			// Validators must reach each other's P2P; RPC is nobody else's
			// business until the operator says so.
			name:    "separate hosts",
			hosts:   hosts,
			wantP2P: func(i int) string { return hosts[i] }, wantRPC: loopback, wantIndex: "kv",
			wantPorts: func(base, _ int) Ports { return Ports{base, base + 1} },
		},
		{
			name:  "separate hosts, public rpc",
			hosts: hosts, publicRPC: true,
			wantP2P: func(i int) string { return hosts[i] }, wantRPC: func(i int) string { return hosts[i] }, wantIndex: "null",
			wantPorts: func(base, _ int) Ports { return Ports{base, base + 1} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const base = 30000
			var seen []types.GenesisValidator
			homes, err := WriteTestnet(Testnet{
				Validators: 4, OutDir: t.TempDir(), Hosts: tc.hosts, PublicRPC: tc.publicRPC, BasePort: base, ChainID: "phala-tn",
				AppState: func(vals []types.GenesisValidator) (json.RawMessage, error) {
					seen = vals
					return json.Marshal(map[string]int{"validators": len(vals)})
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(homes) != 4 || len(seen) != 4 {
				t.Fatalf("got %d homes, AppState saw %d validators", len(homes), len(seen))
			}
			checkSharedGenesis(t, homes)
			ids := nodeIDs(t, homes)
			for i, h := range homes {
				checkNodeConfig(t, h, tc.wantP2P(i), tc.wantRPC(i), tc.wantPorts(base, i))
				checkRPCBounds(t, h, tc.wantIndex, tc.publicRPC)
				checkPeers(t, h, i, ids, tc.hosts, func(j int) Ports { return tc.wantPorts(base, j) })
			}
		})
	}
}

func checkSharedGenesis(t *testing.T, homes []Home) {
	t.Helper()
	first, err := os.ReadFile(homes[0].GenesisFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range homes[1:] {
		if b, _ := os.ReadFile(h.GenesisFile()); !bytes.Equal(first, b) {
			t.Fatalf("%s differs from %s", h.GenesisFile(), homes[0].GenesisFile())
		}
	}
	gen, err := types.GenesisDocFromJSON(first)
	if err != nil {
		t.Fatal(err)
	}
	if gen.ChainID != "phala-tn" || len(gen.Validators) != len(homes) {
		t.Fatalf("genesis chain %q with %d validators", gen.ChainID, len(gen.Validators))
	}
	for i, v := range gen.Validators {
		if v.Power != validatorPower || v.Name != moniker(i) {
			t.Errorf("validator %d: power %d name %q", i, v.Power, v.Name)
		}
	}
	if !jsonEqual(gen.AppState, []byte(`{"validators":4}`)) {
		t.Errorf("app_state = %s", gen.AppState)
	}
}

func nodeIDs(t *testing.T, homes []Home) []string {
	t.Helper()
	ids := make([]string, len(homes))
	for i, h := range homes {
		nk, err := p2p.LoadNodeKey(filepath.Join(h.ConfigDir(), "node_key.json"))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = string(nk.ID())
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		t.Fatalf("node ids not distinct: %v", ids)
	}
	return ids
}

func checkNodeConfig(t *testing.T, h Home, p2pHost, rpcHost string, ports Ports) {
	t.Helper()
	c, err := loadConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	wantP2P := "tcp://" + net.JoinHostPort(p2pHost, strconv.Itoa(ports.P2P))
	wantRPC := "tcp://" + net.JoinHostPort(rpcHost, strconv.Itoa(ports.RPC))
	if c.P2P.ListenAddress != wantP2P || c.RPC.ListenAddress != wantRPC {
		t.Errorf("%s listens p2p %s rpc %s, want %s %s", h, c.P2P.ListenAddress, c.RPC.ListenAddress, wantP2P, wantRPC)
	}
	if c.DBBackend != "pebbledb" || !c.P2P.AllowDuplicateIP || c.P2P.AddrBookStrict ||
		c.Mempool.Size != mempoolSize || c.Instrumentation.Prometheus {
		t.Errorf("%s: unexpected config %+v", h, c.BaseConfig)
	}
	if c.Consensus.TimeoutCommit != DevTiming().TimeoutCommit {
		t.Errorf("timeout_commit = %v", c.Consensus.TimeoutCommit)
	}
}

func checkPeers(t *testing.T, h Home, self int, ids, hosts []string, ports func(int) Ports) {
	t.Helper()
	c, err := loadConfig(h)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for j, id := range ids {
		if j == self {
			continue
		}
		host := "127.0.0.1"
		if hosts != nil {
			host = hosts[j]
		}
		want = append(want, fmt.Sprintf("%s@%s:%d", id, host, ports(j).P2P))
	}
	if got := strings.Split(c.P2P.PersistentPeers, ","); !slices.Equal(got, want) {
		t.Errorf("node%d persistent_peers\n got %v\nwant %v", self, got, want)
	}
	if hosts != nil && c.P2P.ExternalAddress != net.JoinHostPort(hosts[self], strconv.Itoa(ports(self).P2P)) {
		t.Errorf("node%d external_address = %q", self, c.P2P.ExternalAddress)
	}
}

func TestWriteTestnetErrors(t *testing.T) {
	existing := t.TempDir()
	if err := os.Mkdir(filepath.Join(existing, "node0"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tn   Testnet
		want string
	}{
		{"no validators", Testnet{OutDir: t.TempDir()}, "at least one validator"},
		{"host count", Testnet{Validators: 3, OutDir: t.TempDir(), Hosts: []string{"a", "b"}}, "2 hosts for 3 validators"},
		{"empty host", Testnet{Validators: 2, OutDir: t.TempDir(), Hosts: []string{"a", " "}}, "host 1 is empty"},
		{"port range", Testnet{Validators: 2, OutDir: t.TempDir(), BasePort: 65534}, "no room"},
		{"exists", Testnet{Validators: 1, OutDir: existing}, "already exists"},
		{"app state fails", Testnet{Validators: 1, OutDir: t.TempDir(),
			AppState: func([]types.GenesisValidator) (json.RawMessage, error) { return nil, fmt.Errorf("boom") }}, "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WriteTestnet(tc.tn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			if tc.tn.OutDir != existing && exists(filepath.Join(tc.tn.OutDir, "node0")) {
				t.Error("failed WriteTestnet left node0 behind")
			}
		})
	}
}

// TestTestnetReachesConsensus runs a 4-validator testnet in this process to
// prove the written peers and shared genesis actually form a network.
func TestTestnetReachesConsensus(t *testing.T) {
	homes, err := WriteTestnet(Testnet{
		Validators: 4, OutDir: t.TempDir(), BasePort: freeRange(t, 8), Timing: testTiming(),
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*Node, len(homes))
	for i, h := range homes {
		nodes[i] = startTest(t, h, &testApp{})
	}
	ctx := testCtx(t, 20*time.Second)
	for _, n := range nodes {
		if err := n.WaitHeight(ctx, 3); err != nil {
			t.Fatalf("%s: %v", n.Home(), err)
		}
	}
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}
