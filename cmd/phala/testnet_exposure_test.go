package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/network"
)

// TestTestnetClientConfigFollowsRPCExposure: with --hosts but no
// --public-rpc validator 0's RPC only answers on its own loopback, so the
// client config must point there, not at a port that is closed to others.
func TestTestnetClientConfigFollowsRPCExposure(t *testing.T) {
	for _, tc := range []struct {
		public bool
		want   string
	}{
		{false, "http://127.0.0.1:30001"},
		{true, "http://10.0.0.1:30001"},
	} {
		o := network.TestnetOptions{OutDir: t.TempDir(), Hosts: []string{"10.0.0.1", "10.0.0.2"}, BasePort: 30000,
			ChainID: "phala-testnet", PublicRPC: tc.public}
		path, err := writeTestnetClientConfig(o)
		if err != nil {
			t.Fatal(err)
		}
		c, found, err := loadClientConfig(path)
		if err != nil || !found {
			t.Fatalf("loading %s: found %v, %v", path, found, err)
		}
		if c.Node != tc.want {
			t.Errorf("public rpc %v: client config node %s, want %s", tc.public, c.Node, tc.want)
		}
	}
}

// TestTestnetExposureFlags runs `phala testnet --hosts` with and without
// --public-rpc and reads where the written node's RPC and P2P listen.
func TestTestnetExposureFlags(t *testing.T) {
	for _, tc := range []struct {
		flags         []string
		rpc, p2p, idx string
	}{
		{nil, `"tcp://127.0.0.1:30001"`, `"tcp://10.0.0.1:30000"`, `"kv"`},
		{[]string{"--public-rpc"}, `"tcp://10.0.0.1:30001"`, `"tcp://10.0.0.1:30000"`, `"null"`},
		{[]string{"--public-rpc", "--tx-index", "kv"}, `"tcp://10.0.0.1:30001"`, `"tcp://10.0.0.1:30000"`, `"kv"`},
	} {
		out := t.TempDir()
		cmd := newTestnetCmd()
		cmd.SetArgs(append([]string{"--validators", "1", "--out", out, "--hosts", "10.0.0.1", "--base-port", "30000"}, tc.flags...))
		cmd.SetOut(io.Discard)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "node0", "config", "config.toml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"\nladdr = " + tc.rpc + "\n", "\nladdr = " + tc.p2p + "\n", "\nindexer = " + tc.idx + "\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%v: config.toml lacks %q", tc.flags, strings.TrimSpace(want))
			}
		}
	}
}
