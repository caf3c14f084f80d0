//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStateSyncJoin runs a four-validator testnet with fast blocks and a
// snapshot every 500 blocks until it is thousands of blocks long, then
// joins a fifth node by state sync from a trusted height and hash taken
// from a validator: it must catch up, agree with the validators on app
// hashes, and not have replayed history (its earliest block is the
// snapshot's). A sixth node joins by replaying from genesis, to compare.
//
// PHALA_E2E_STATESYNC_HEIGHT sets the network's length (default 2000).
func TestStateSyncJoin(t *testing.T) {
	skipShort(t)
	const validators = 4
	target := int64(2000)
	if s := os.Getenv("PHALA_E2E_STATESYNC_HEIGHT"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 100 {
			t.Fatalf("PHALA_E2E_STATESYNC_HEIGHT=%q", s)
		}
		target = v
	}
	// Snapshots must outlive a join's discovery (5 s): at ~18 blocks/s on
	// loopback, 100 blocks and two kept give a window of ~10 s at least.
	interval := max(target/4, 100)
	testStart := time.Now()
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "testnet")
	base := freePortRange(t, 2*validators)
	fast := []string{"--timeout-commit", "1ms", "--timeout-propose", "2s"}
	var layout struct {
		Homes []string `json:"homes"`
	}
	c.mustJSON(&layout, append([]string{"testnet", "--validators", strconv.Itoa(validators), "--out", out,
		"--base-port", strconv.Itoa(base), "--snapshot-interval", strconv.FormatInt(interval, 10), "--output", "json"}, fast...)...)

	urls := make([]string, validators)
	peers := make([]string, validators)
	var v0 *server
	for i, home := range layout.Homes {
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", base+2*i+1)
		var id struct {
			Peer string `json:"peer_address"`
		}
		c.mustJSON(&id, "node", "id", "--home", home, "--output", "json")
		peers[i] = id.Peer
		fastGossip(t, home)
		srv := newServer(t, fmt.Sprintf("node%d", i), c.env, "node", "--home", home, "--output", "json")
		t.Cleanup(func() {
			if t.Failed() {
				logTail(t, filepath.Join(home, "logs", "cometbft.log"))
			}
		})
		srv.start()
		if i == 0 {
			v0 = srv
		}
	}
	c.waitHeight(v0, urls[0], target, 20*time.Minute)
	built := time.Since(testStart)
	t.Logf("network reached height %d in %v (%.0f blocks/s)", target, built.Round(time.Second), float64(target)/built.Seconds())

	// The operator trusts a recent block of a validator it runs.
	trust := c.mustStatus(urls[0]).Height - 2
	var trusted blockJSON
	c.mustJSON(&trusted, "query", "block", strconv.FormatInt(trust, 10), "--node", urls[0], "--output", "json")
	genesis := filepath.Join(layout.Homes[0], "config", "genesis.json")

	caughtUp := func(name, url string, srv *server) {
		t.Helper()
		waitFor(t, 4*time.Minute, name+" to catch up", func() (bool, string, error) {
			if err := srv.checkAlive(); err != nil {
				return false, "", err
			}
			s, err := c.status(url)
			if err != nil {
				return false, err.Error(), nil
			}
			s0, err := c.status(urls[0])
			if err != nil {
				return false, "", err
			}
			return !s.CatchingUp && s.Height >= s0.Height-3,
				fmt.Sprintf("%s at %d (catching up %v), node0 at %d", name, s.Height, s.CatchingUp, s0.Height), nil
		})
	}
	join := func(name string, stateSync bool) (string, *server, time.Duration) {
		home := filepath.Join(t.TempDir(), name)
		ports := freePorts(t, 2)
		args := []string{"node", "join", "--home", home, "--genesis", genesis, "--peers", strings.Join(peers, ","),
			"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]), "--output", "json"}
		if stateSync {
			args = append(args, "--rpc-servers", urls[0]+","+urls[1],
				"--trust-height", strconv.FormatInt(trust, 10), "--trust-hash", trusted.Hash)
		}
		var printed struct {
			StateSync bool `json:"state_sync"`
		}
		c.mustJSON(&printed, append(args, fast...)...)
		if printed.StateSync != stateSync {
			t.Fatalf("join printed state_sync %v", printed.StateSync)
		}
		fastGossip(t, home)
		url := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		srv := newServer(t, name, c.env, "node", "--home", home, "--output", "json")
		t.Cleanup(func() {
			if t.Failed() {
				logTail(t, filepath.Join(home, "logs", "cometbft.log"))
			}
		})
		start := time.Now()
		srv.start()
		caughtUp(name, url, srv)
		return url, srv, time.Since(start)
	}

	url, joiner, took := join("statesync", true)
	earliest := earliestHeight(t, url)
	if earliest <= 1 {
		t.Fatalf("the state-synced node's earliest block is %d: it replayed history", earliest)
	}
	// Same blocks, same app hashes, at a height both have.
	common := c.mustStatus(url).Height - 1
	var b0, bj blockJSON
	c.mustJSON(&b0, "query", "block", strconv.FormatInt(common, 10), "--node", urls[0], "--output", "json")
	c.mustJSON(&bj, "query", "block", strconv.FormatInt(common, 10), "--node", url, "--output", "json")
	if b0 != bj || b0.AppHash == "" {
		t.Fatalf("block %d: node0 %+v, joiner %+v", common, b0, bj)
	}
	if s := c.supply(url); s.Total != totalSupply {
		t.Errorf("joiner's supply total %s, want %s", s.Total, totalSupply)
	}
	t.Logf("state sync: joined in %v, earliest block %d, agrees with node0 at block %d", took.Round(100*time.Millisecond), earliest, common)

	// A restart resumes from its own store (no second state sync), and it
	// passes the start-up checks with a store that begins at the snapshot.
	joiner.kill()
	joiner.start()
	caughtUp("statesync (restarted)", url, joiner)
	if e := earliestHeight(t, url); e != earliest {
		t.Fatalf("after restart the earliest block is %d, was %d", e, earliest)
	}

	_, _, replay := join("replay", false)
	t.Logf("join time at height ~%d: state sync %v, replay from genesis %v; whole test %v",
		target, took.Round(100*time.Millisecond), replay.Round(100*time.Millisecond), time.Since(testStart).Round(time.Second))
}

// earliestHeight is CometBFT's earliest_block_height of the node at url:
// 1 for a node that replayed from genesis, the snapshot's next block for
// one restored by state sync.
func earliestHeight(t *testing.T, url string) int64 {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Result struct {
			SyncInfo struct {
				Earliest string `json:"earliest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	h, err := strconv.ParseInt(st.Result.SyncInfo.Earliest, 10, 64)
	if err != nil {
		t.Fatalf("earliest_block_height %q", st.Result.SyncInfo.Earliest)
	}
	return h
}

// fastGossip edits a home's config.toml as an operator would: CometBFT's
// consensus gossip sleeps 100ms when it has nothing to send, which caps
// a loopback network at a few blocks a second; 5ms (CometBFT's own test
// setting) gives the thousands of blocks this test needs in minutes.
func fastGossip(t *testing.T, home string) {
	t.Helper()
	path := filepath.Join(home, "config", "config.toml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const from, to = `peer_gossip_sleep_duration = "100ms"`, `peer_gossip_sleep_duration = "5ms"`
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s has no %s", path, from)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), from, to, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
