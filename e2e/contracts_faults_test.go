//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
)

// resultsCopy is one worker's contracts.results for a height, as the
// chain republished it.
type resultsCopy struct {
	sender  string // hex identity key
	payload []byte
	outcome mq.Outcome
	block   int64
}

// resultsScan reads blocks in order and collects every contracts.results
// egress by the height it reports.
type resultsScan struct {
	scanned int64
	byH     map[int64][]resultsCopy
}

func (s *resultsScan) upTo(url string, h int64) error {
	if s.byH == nil {
		s.byH = map[int64][]resultsCopy{}
	}
	c, err := client.New(url)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for s.scanned < h {
		next := s.scanned + 1
		var blk mq.Block
		if err := c.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(next), &blk); err != nil {
			return err
		}
		for _, m := range blk.Messages {
			if m.Topic != mq.TopicEgress {
				continue
			}
			r, err := mq.DecodeRepublished(m.Payload)
			if err != nil {
				return fmt.Errorf("block %d: %v", next, err)
			}
			if r.Egress.Egress.Topic != contractsapi.TopicResults {
				continue
			}
			res, err := contractsapi.DecodeResults(r.Egress.Egress.Payload)
			if err != nil {
				return fmt.Errorf("block %d: results of %x: %v", next, r.Egress.Egress.Sender, err)
			}
			s.byH[res.Height] = append(s.byH[res.Height], resultsCopy{
				sender: hex.EncodeToString(r.Egress.Egress.Sender), payload: r.Egress.Egress.Payload, outcome: r.Outcome, block: next})
		}
		s.scanned = next
	}
	return nil
}

// sentCommand is a command the stream sent: its seq, block and reply key.
type sentCommand struct {
	from     string
	seq      uint64
	height   int64
	replyKey string
}

// TestContractsWorkerKill9MidCommands runs the devnet (its gatekeeper and
// two workers in process) and a third worker of the default cluster as
// its own processes (`phala worker` + `phala relay`), deploys the token,
// sends a stream of commands from two senders and SIGKILLs the third
// worker while they flow, then starts it again on its home. It checks the
// issue's fault case: for every block with commands the restarted worker
// posts results (statuses, gas and contract state roots) byte-equal to the
// in-process workers' (so no contracts.discrepancy names it), the chain
// accepts them, and it serves every command's receipt.
func TestContractsWorkerKill9MidCommands(t *testing.T) {
	skipShort(t)
	began := time.Now()
	c := newCLI(t)

	// Build the token while the devnet starts (into the test's temp dir,
	// not the source tree).
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(t.TempDir(), "token.wasm")
	built := make(chan result, 1)
	go func() { built <- c.run("contract", "build", filepath.Join(root, "contracts", "token"), "--out", wasm) }()

	d := startDevnet(t, c)
	url := d.url()
	env := c.withEnv("PHALA_PASSPHRASE=" + devPassphrase)
	keys := d.info.Keyring

	// Worker W and its relay, operator bob, on fixed loopback ports so the
	// relay finds the restarted runtime where it left it.
	base := freePortRange(t, 2)
	tw := startThirdWorker(t, c, d, env, filepath.Join(t.TempDir(), "worker-w"), thirdWorkerOptions{
		operator: d.info.address(t, "bob"), operatorKey: "bob", registerWithin: 60 * time.Second,
		workerArgs: []string{"--relay-listen", fmt.Sprintf("127.0.0.1:%d", base), "--listen", fmt.Sprintf("127.0.0.1:%d", base+1)},
	})
	w, alive := tw.workerProc, tw.alive
	relayURL, publicURL, idW := w.info.RelayAPI, w.info.PublicAPI, w.info.IdentityKey
	t.Logf("W assigned and keyed after %v", time.Since(began).Round(time.Millisecond))

	// Deploy the token.
	if r := <-built; !r.ok() {
		t.Fatalf("building the token: %s", r)
	}
	var codeHash string
	{
		var up struct {
			CodeHash string `json:"code_hash"`
		}
		c.mustJSONEnv(&up, []string{"PHALA_PASSPHRASE=" + devPassphrase}, "contract", "upload", wasm, "--from", "alice",
			"--keyring", keys, "--node", url, "--timeout", "60s", "--output", "json")
		codeHash = up.CodeHash
	}
	var inst struct {
		Contract string `json:"contract"`
	}
	c.mustJSONEnv(&inst, []string{"PHALA_PASSPHRASE=" + devPassphrase}, "contract", "instantiate", codeHash, "--from", "alice",
		"--cluster", "default", "--salt", "faults", "--init", `{"supply":1000000}`, "--keyring", keys, "--node", url, "--output", "json")
	waitFor(t, 60*time.Second, "the token's key on chain", func() (bool, string, error) {
		var show struct {
			PublicKeys []json.RawMessage `json:"public_keys"`
		}
		if err := c.run("contract", "show", inst.Contract, "--node", url, "--output", "json").decode(&show); err != nil {
			return false, err.Error(), nil
		}
		return len(show.PublicKeys) > 0, "no public key yet", nil
	})
	t.Logf("token %s deployed after %v", inst.Contract, time.Since(began).Round(time.Millisecond))

	// Two senders stream transfers to each other (carol's first ones may
	// revert: that is a result too). W is killed once a third of them are
	// on chain, and started again while the rest flow.
	toArg := func(name string) string {
		a, err := address.Parse(d.info.address(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(`{"to":%q,"amount":7}`, hex.EncodeToString(a.Bytes()))
	}
	const perSender = 12
	replies := t.TempDir()
	var (
		mu      sync.Mutex
		sent    []sentCommand
		failed  []string
		onChain atomic.Int32
	)
	var wg sync.WaitGroup
	for _, p := range [][2]string{{"alice", "carol"}, {"carol", "alice"}} {
		from, args := p[0], toArg(p[1])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				key := filepath.Join(replies, fmt.Sprintf("%s-%d.json", from, i))
				r := c.runCtx(context.Background(), env, "contract", "command", inst.Contract, "transfer", args, "--from", from,
					"--gas", "200000000", "--no-wait", "--reply-key", key, "--keyring", keys, "--node", url, "--output", "json")
				var out struct {
					Seq    uint64 `json:"seq"`
					Height int64  `json:"height"`
				}
				err := r.decode(&out)
				mu.Lock()
				if err != nil {
					failed = append(failed, err.Error())
				} else {
					sent = append(sent, sentCommand{from: from, seq: out.Seq, height: out.Height, replyKey: key})
				}
				mu.Unlock()
				onChain.Add(1)
			}
		}()
	}
	// Kill W once it has executed some command blocks and more commands
	// are still coming: it must fold command blocks again from its last
	// checkpoint and execute the rest after the restart.
	var firstH int64
	waitFor(t, 60*time.Second, "W to execute the first commands while more flow", func() (bool, string, error) {
		if err := alive(); err != nil {
			return false, "", err
		}
		mu.Lock()
		firstH = 0
		for _, s := range sent {
			if firstH == 0 || s.height < firstH {
				firstH = s.height
			}
		}
		mu.Unlock()
		if n := onChain.Load(); n >= 2*perSender-4 {
			return false, "", fmt.Errorf("the stream (%d of %d commands sent) nearly ended before W executed a command block", n, 2*perSender)
		}
		st, err := w.status()
		if err != nil {
			return false, err.Error(), nil
		}
		// Between two checkpoints, so the restart folds blocks again.
		between := st.Height%checkpointEvery >= 2
		return firstH > 0 && st.Height > firstH+1 && between, fmt.Sprintf("W at %d, first command in block %d", st.Height, firstH), nil
	})
	killedAt := w.mustStatus().Height
	w.srv.kill()
	t.Logf("kill -9 of W at its height >= %d with %d commands on chain, the first in block %d", killedAt, onChain.Load(), firstH)
	w.start()
	if w.info.RelayAPI != relayURL || w.info.PublicAPI != publicURL {
		t.Fatalf("restarted W serves %s/%s, was %s/%s", w.info.RelayAPI, w.info.PublicAPI, relayURL, publicURL)
	}
	t.Logf("W resumed from its checkpoint at %d", w.info.Height)
	if w.info.Height >= killedAt {
		t.Logf("W's checkpoint was at its height at the kill: nothing folded again")
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d commands failed to be sent: %s", len(failed), failed[0])
	}
	slices.SortFunc(sent, func(a, b sentCommand) int { return int(a.seq) - int(b.seq) })
	heights := map[int64]bool{}
	var lastH int64
	for _, s := range sent {
		heights[s.height] = true
		lastH = max(lastH, s.height)
	}
	t.Logf("%d commands in %d blocks (%d..%d), seq %d..%d", len(sent), len(heights), sent[0].height, lastH, sent[0].seq, sent[len(sent)-1].seq)

	// Every block with commands: W's results, the other workers' results,
	// all byte-equal, all accepted.
	var scan resultsScan
	var detail string
	waitFor(t, 60*time.Second, "every worker's results for every block with commands", func() (bool, string, error) {
		if err := alive(); err != nil {
			return false, "", err
		}
		head, err := chainHead(url)
		if err != nil {
			return false, err.Error(), nil
		}
		if err := scan.upTo(url, head); err != nil {
			return false, err.Error(), nil
		}
		for h := range heights {
			copies := scan.byH[h]
			var fromW, others int
			for _, cp := range copies {
				if cp.sender == idW {
					fromW++
				} else {
					others++
				}
			}
			if fromW == 0 || others < 2 {
				detail = fmt.Sprintf("height %d: %d copies from W, %d from the devnet's workers (scanned to %d)", h, fromW, others, head)
				return false, detail, nil
			}
		}
		return true, "", nil
	})
	for h := range heights {
		copies := scan.byH[h]
		first := copies[0]
		var fromW int
		for _, cp := range copies {
			if cp.sender == idW {
				fromW++
			}
			if !bytes.Equal(cp.payload, first.payload) {
				r1, _ := contractsapi.DecodeResults(first.payload)
				r2, _ := contractsapi.DecodeResults(cp.payload)
				t.Errorf("height %d: worker %s posted (block %d) %+v, worker %s (block %d) %+v", h, cp.sender[:16], cp.block, r2, first.sender[:16], first.block, r1)
			}
			if cp.outcome != mq.OutcomeAccepted {
				t.Errorf("height %d: results of worker %s in block %d: outcome %v", h, cp.sender[:16], cp.block, cp.outcome)
			}
		}
		if fromW != 1 {
			t.Errorf("height %d: W posted %d results copies", h, fromW)
		}
	}

	// Every receipt from the restarted W.
	okCount := 0
	statuses := map[string]int{}
	for _, s := range sent {
		r := c.run("contract", "receipt", fmt.Sprint(s.seq), "--reply-key", s.replyKey, "--worker", publicURL,
			"--node", url, "--wait", "--timeout", "20s", "--output", "json")
		var rc struct {
			Seq      uint64 `json:"seq"`
			Status   string `json:"status"`
			GasUsed  uint64 `json:"gas_used"`
			Worker   string `json:"worker"`
			Assigned bool   `json:"worker_assigned"`
		}
		// A reverted command exits non-zero but still prints its receipt.
		if err := json.Unmarshal([]byte(r.stdout), &rc); err != nil || rc.Seq != s.seq {
			t.Errorf("receipt of command %d (%s, block %d) from W: %s", s.seq, s.from, s.height, r)
			continue
		}
		if rc.Worker != idW || !rc.Assigned || rc.GasUsed == 0 {
			t.Errorf("receipt of command %d: %+v", s.seq, rc)
		}
		statuses[rc.Status]++
		if rc.Status != "ok" && !(rc.Status == "reverted" && s.from == "carol") {
			t.Errorf("command %d of %s: status %s", s.seq, s.from, rc.Status)
		}
		if rc.Status == "ok" {
			okCount++
		}
	}
	if okCount == 0 {
		t.Errorf("no command of %d succeeded", len(sent))
	}
	t.Logf("W's results equal the devnet workers' in %d blocks; %d receipts from W (%v); took %v",
		len(heights), len(sent), statuses, time.Since(began).Round(time.Millisecond))
}
