//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// devnet is a `phala devnet` process and what it printed when it started.
type devnet struct {
	t    *testing.T
	c    *cli
	srv  *server
	home string
	rpc  int
	info devnetJSON
	// noTEE: started with --no-worker (no gatekeeper, worker or relays).
	noTEE bool
}

// startDevnet creates a development network in a fresh home on free ports
// and waits until it answers.
func startDevnet(t *testing.T, c *cli, extra ...string) *devnet {
	t.Helper()
	home := t.TempDir()
	ports := freePorts(t, 2)
	d := &devnet{t: t, c: c, home: home, rpc: ports[1], noTEE: slices.Contains(extra, "--no-worker")}
	args := append([]string{"devnet", "--home", home,
		"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]), "--output", "json"}, extra...)
	d.srv = newServer(t, "devnet", c.env, args...)
	t.Cleanup(func() {
		if t.Failed() {
			logTail(t, filepath.Join(home, "logs", "cometbft.log"))
		}
	})
	d.start()
	want := devnetJSON{ChainID: "phala-devnet", RPC: fmt.Sprintf("http://127.0.0.1:%d", d.rpc), Home: home, Keyring: filepath.Join(home, "keys")}
	if d.info.ChainID != want.ChainID || d.info.RPC != want.RPC || d.info.Home != want.Home || d.info.Keyring != want.Keyring {
		t.Fatalf("devnet printed %+v, want %+v", d.info, want)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		if a := d.info.address(t, name); !strings.HasPrefix(a, "pha1") {
			t.Fatalf("devnet account %s has address %q", name, a)
		}
	}
	return d
}

// start runs the devnet (creating or resuming its home) and waits until it
// has printed its JSON and answers status queries.
func (d *devnet) start() {
	d.t.Helper()
	d.srv.start()
	waitFor(d.t, 60*time.Second, "the devnet to start", func() (bool, string, error) {
		if err := d.srv.checkAlive(); err != nil {
			return false, "", err
		}
		var info devnetJSON
		if err := json.Unmarshal([]byte(d.srv.stdoutText()), &info); err != nil || info.RPC == "" {
			return false, "no JSON on stdout yet", nil
		}
		if _, err := d.c.status(info.RPC); err != nil {
			return false, err.Error(), nil
		}
		d.info = info
		return true, "", nil
	})
	if !d.noTEE {
		d.checkWorker()
	}
}

// checkWorker asks the devnet's worker runtime, through its public status
// endpoint, whether it follows the chain, is registered and holds the
// default cluster's key, and that the devnet printed its gatekeeper and
// the cluster's public key.
func (d *devnet) checkWorker() {
	d.t.Helper()
	w := d.info.Worker
	if w == nil || w.Status == "" || w.IdentityKey == "" {
		d.t.Fatalf("devnet printed no worker: %+v", d.info)
	}
	waitFor(d.t, 60*time.Second, "the devnet's worker to follow the chain, registered", func() (bool, string, error) {
		resp, err := http.Get(w.Status)
		if err != nil {
			return false, err.Error(), nil
		}
		defer resp.Body.Close()
		var st struct {
			Height      int64  `json:"height"`
			IdentityKey string `json:"identity_key"`
			Registered  bool   `json:"registered"`
			Clusters    []struct {
				Cluster string `json:"cluster"`
			} `json:"clusters"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return false, err.Error(), nil
		}
		if st.IdentityKey != w.IdentityKey {
			return false, "", fmt.Errorf("worker status names identity %s, devnet printed %s", st.IdentityKey, w.IdentityKey)
		}
		// The devnet assigned it to its default cluster: the gatekeeper
		// handed it the cluster key.
		holds := len(st.Clusters) > 0 && st.Clusters[0].Cluster == "default"
		return st.Registered && st.Height > 0 && holds, fmt.Sprintf("height %d registered %v clusters %v", st.Height, st.Registered, st.Clusters), nil
	})
	if cl := d.info.Cluster; cl == nil || cl.ID != "default" || len(cl.PublicKey) != 2*1216 || d.info.Gatekeeper == nil {
		d.t.Fatalf("devnet printed no gatekeeper or default cluster key: %+v %+v", d.info.Gatekeeper, d.info.Cluster)
	}
}

func (d *devnet) url() string { return d.info.RPC }

// mempoolSize reads the number of unconfirmed transactions from CometBFT's
// RPC, as an operator watching the node would.
func mempoolSize(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/num_unconfirmed_txs", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Result struct {
			NTxs json.RawMessage `json:"n_txs"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.Trim(string(body.Result.NTxs), `"`))
}

// killMode is the moment of a round's SIGKILL.
type killMode int

const (
	killAfterSubmit killMode = iota // right after a transfer reported its block
	killInMempool                   // a transfer in flight, once the node's mempool holds it
	killAtCommit                    // a transfer in flight, once it left the mempool (its block is committing)
	killJitter                      // a transfer in flight, after a random delay from its start
	killAtNewBlock                  // nothing in flight, as soon as a new block is reported
)

func (m killMode) String() string {
	return [...]string{"after-submit", "in-mempool", "at-commit", "jitter", "at-new-block"}[m]
}

// inflight is a transfer running in its own goroutine while the node dies.
type inflight struct {
	cancel context.CancelFunc
	done   chan struct{}
	tx     txJSON
	res    result
}

// startTransfer runs a 1 PHA transfer from alice in the background. If the
// test ends first, its process is killed in t.Cleanup.
func (c *cli) startTransfer(keyring, to, url string) *inflight {
	ctx, cancel := context.WithCancel(context.Background())
	f := &inflight{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.tx, f.res = c.transfer(ctx, keyring, to, url)
	}()
	c.t.Cleanup(func() {
		cancel()
		<-f.done
	})
	return f
}

func (f *inflight) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// TestDevnetSurvivesKill9 kills a devnet with SIGKILL at varied moments,
// restarts it from the same home, and checks that nothing committed was lost
// or applied twice.
func TestDevnetSurvivesKill9(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c, "--no-worker")
	keys := d.info.Keyring
	alice, bob := d.info.address(t, "alice"), d.info.address(t, "bob")

	a0, b0, s0 := c.account(d.url(), alice), c.account(d.url(), bob), c.supply(d.url())
	if s0.Total != totalSupply {
		t.Fatalf("fresh devnet supply total %s, want %s", s0.Total, totalSupply)
	}
	if a0.Nonce != 0 || !a0.Exists || !b0.Exists {
		t.Fatalf("fresh devnet accounts: alice %+v bob %+v", a0, b0)
	}
	// Fees move from alice to the treasury and transfers from alice to bob,
	// so these three always hold the same sum. (The devnet runs without its
	// TEE nodes here, whose relays would pay fees too; the worker's own
	// faults are TestWorkerRelayNodeSurviveKill9's.)
	held := func(url string) *big.Int {
		sum := parseUnits(t, c.supply(url).Treasury)
		return sum.Add(sum, new(big.Int).Add(c.account(url, alice).balance(t), c.account(url, bob).balance(t)))
	}
	held0 := held(d.url())

	var committed []txJSON // transfers whose CLI reported their block
	unknown := 0           // in-flight transfers whose CLI failed: committed or not
	verify := func(when string) {
		t.Helper()
		url := d.url()
		for _, want := range committed {
			got, err := c.tx(url, want.Hash)
			if err != nil {
				t.Errorf("%s: transfer %s reported in block %d is not found: %v", when, want.Hash, want.Height, err)
				continue
			}
			if got.Hash != want.Hash || got.Height != want.Height || got.Code != 0 {
				t.Errorf("%s: transfer %s was in block %d with code 0, now %+v", when, want.Hash, want.Height, got)
			}
		}
		a, b, s := c.account(url, alice), c.account(url, bob), c.supply(url)
		n := a.Nonce - a0.Nonce // only this test sends from alice
		if n < uint64(len(committed)) || n > uint64(len(committed)+unknown) {
			t.Errorf("%s: alice's nonce is %d; %d transfers reported committed and %d more may have been", when, a.Nonce, len(committed), unknown)
		}
		wantBob := new(big.Int).Mul(onePHA, new(big.Int).SetUint64(n))
		wantBob.Add(wantBob, b0.balance(t))
		if b.balance(t).Cmp(wantBob) != 0 {
			t.Errorf("%s: bob has %s, want %s (initial %s + %d transfers of 1 PHA)", when, b.Balance, wantBob, b0.Balance, n)
		}
		if now := held(url); now.Cmp(held0) != 0 {
			t.Errorf("%s: alice+bob+treasury hold %s, at the start %s", when, now, held0)
		}
		if s.Total != totalSupply || s.RewardPool != s0.RewardPool {
			t.Errorf("%s: supply %+v, want total %s and reward pool %s", when, s, totalSupply, s0.RewardPool)
		}
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("%s: alice's nonce %d, bob %s", when, a.Nonce, b.Balance)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	modes := []killMode{killAfterSubmit, killInMempool, killAtCommit, killJitter, killAtNewBlock}
	rng.Shuffle(len(modes), func(i, j int) { modes[i], modes[j] = modes[j], modes[i] })

	for round, mode := range modes {
		url := d.url()
		for range 1 + rng.IntN(2) {
			committed = append(committed, c.mustTransfer(keys, bob, url))
		}
		before := c.mustStatus(url).Height
		var lastBlock blockJSON // must read the same after the restart
		c.mustJSON(&lastBlock, "query", "block", strconv.FormatInt(before, 10), "--node", url, "--output", "json")

		var f *inflight
		switch mode {
		case killAfterSubmit:
			committed = append(committed, c.mustTransfer(keys, bob, url))
		case killInMempool, killAtCommit:
			f = c.startTransfer(keys, bob, url)
			seen := false
			waitFor(t, 30*time.Second, "the in-flight transfer to reach the mempool", func() (bool, string, error) {
				if f.finished() {
					return true, "", nil // too late to catch: kill right after it
				}
				n, err := mempoolSize(url)
				if err != nil {
					return false, err.Error(), nil
				}
				if n > 0 {
					seen = true
				}
				if mode == killInMempool {
					return seen, "", nil
				}
				return seen && n == 0, fmt.Sprintf("%d txs in the mempool", n), nil
			})
		case killJitter:
			f = c.startTransfer(keys, bob, url)
			jitter := time.NewTimer(time.Duration(rng.Int64N(int64(700 * time.Millisecond))))
			select { // a random moment, not a synchronisation point
			case <-jitter.C:
			case <-f.done:
			}
			jitter.Stop()
		case killAtNewBlock:
			c.waitHeight(d.srv, url, before+1, 30*time.Second)
		}

		d.srv.kill()
		t.Logf("round %d (%s): killed the devnet at height >= %d with %d transfers committed", round, mode, before, len(committed))
		d.start()
		first := c.mustStatus(d.url())
		if first.Height < before {
			t.Fatalf("round %d: after SIGKILL the devnet restarted at height %d, had reached %d", round, first.Height, before)
		}
		var again blockJSON
		c.mustJSON(&again, "query", "block", strconv.FormatInt(before, 10), "--node", d.url(), "--output", "json")
		if again != lastBlock {
			t.Fatalf("round %d: block %d was %+v before SIGKILL, %+v after", round, before, lastBlock, again)
		}
		// Any block the node was in the middle of is finished (or dropped)
		// once two more are committed.
		c.waitHeight(d.srv, d.url(), first.Height+2, 30*time.Second)

		if f != nil {
			// The CLI polls every 100ms: if its transaction committed it
			// knows by now. If the transaction was lost with the old
			// node's mempool, the CLI would wait for its whole --timeout,
			// so it is stopped after a grace period.
			grace := time.NewTimer(5 * time.Second)
			stopped := false
			select {
			case <-f.done:
			case <-grace.C:
				stopped = true
				f.cancel()
				<-f.done
			}
			grace.Stop()
			if f.res.ok() {
				committed = append(committed, f.tx)
				t.Logf("round %d: the in-flight transfer committed in block %d", round, f.tx.Height)
			} else {
				unknown++
				if hasPanic(f.res.stderr) {
					t.Errorf("the in-flight transfer's CLI panicked: %s", f.res)
				}
				why := strings.TrimSpace(f.res.stderr)
				if stopped {
					why = "still waiting for its transaction (lost with the old node's mempool?); stopped"
				}
				t.Logf("round %d: the in-flight transfer failed (it may still have committed): %s", round, why)
			}
		}
		verify(fmt.Sprintf("after round %d (%s)", round, mode))
	}

	// The restarted chain still takes transfers.
	committed = append(committed, c.mustTransfer(keys, bob, d.url()))
	verify("after the last restart")
	t.Logf("%d transfers committed, %d in-flight with unknown outcome, final height %d", len(committed), unknown, c.mustStatus(d.url()).Height)
}
