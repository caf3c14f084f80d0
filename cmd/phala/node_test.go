package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/node"
)

// TestNodeJoinCommand writes a testnet with a snapshot interval, reads a
// validator's peer address with `node id`, and lays out joining homes with
// `node join`: by state sync and by replay, and refusals of incomplete
// state-sync flags.
func TestNodeJoinCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "tn")
	if _, err := runPhala(t, "testnet", "--validators", "2", "--out", out, "--base-port", "31000",
		"--snapshot-interval", "50", "--snapshot-keep", "3", "--timeout-commit", "10ms", "--output", "json"); err != nil {
		t.Fatal(err)
	}
	v0 := node.Home(filepath.Join(out, "node0"))
	if c, err := node.LoadAppConfig(v0); err != nil || c.Snapshots != (node.SnapshotConfig{Interval: 50, KeepRecent: 3}) {
		t.Fatalf("validator app config %+v (%v)", c, err)
	}
	var id struct {
		Peer string `json:"peer_address"`
	}
	printed, err := runPhala(t, "node", "id", "--home", string(v0), "--output", "json")
	if err != nil || json.Unmarshal([]byte(printed), &id) != nil || !strings.HasSuffix(id.Peer, "@127.0.0.1:31000") {
		t.Fatalf("node id printed %q (%v)", printed, err)
	}
	hash := strings.Repeat("ab", 32)
	base := []string{"node", "join", "--genesis", v0.GenesisFile(), "--peers", id.Peer, "--p2p-port", "31010", "--rpc-port", "31011", "--output", "json"}
	stateSync := []string{"--rpc-servers", "http://127.0.0.1:31001,http://127.0.0.1:31003", "--trust-height", "7", "--trust-hash", hash}
	cases := []struct {
		name  string
		extra []string
		want  string // error substring, "" = works
		sync  bool
	}{
		{"state sync", stateSync, "", true},
		{"replay", nil, "", false},
		{"one rpc server", []string{"--rpc-servers", "http://127.0.0.1:31001", "--trust-height", "7", "--trust-hash", hash}, "two RPC servers", false},
		{"no hash", []string{"--rpc-servers", "http://a:1,http://b:2", "--trust-height", "7"}, "trust hash", false},
		{"no peers", []string{"--peers", ""}, "peer", false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := filepath.Join(dir, "j"+string(rune('a'+i)))
			printed, err := runPhala(t, append(append(base, "--home", home), c.extra...)...)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err %v, want %q", err, c.want)
				}
				return
			}
			var got struct {
				Home      string `json:"home"`
				Peer      string `json:"peer_address"`
				StateSync bool   `json:"state_sync"`
			}
			if err != nil || json.Unmarshal([]byte(printed), &got) != nil || got.Home != home || got.StateSync != c.sync || !strings.HasSuffix(got.Peer, "@127.0.0.1:31010") {
				t.Fatalf("join printed %q (%v)", printed, err)
			}
			if !node.Home(home).Exists() {
				t.Fatal("no home written")
			}
		})
	}
}
