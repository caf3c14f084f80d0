//go:build unix

package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/worker/api"
	"github.com/phala-go/phala/worker/enclave"
)

// checkpointEvery is the worker's --checkpoint-every in these tests: small,
// so a SIGKILL usually loses a few blocks the runtime must fold again.
const checkpointEvery = 5

// workerInfo is the part of a worker's worker.json these tests read.
type workerInfo struct {
	RelayAPI    string `json:"relay_api"`
	PublicAPI   string `json:"public_api"`
	IdentityKey string `json:"identity_key"`
	Height      int64  `json:"height"`
	Registered  bool   `json:"registered"`
}

// workerProc is a `phala worker` process on one home.
type workerProc struct {
	t    *testing.T
	srv  *server
	home string
	info workerInfo
}

// newWorker prepares a worker on home pinned to operator (an address);
// extra are more flags (listen addresses).
func newWorker(t *testing.T, c *cli, name, home, genesis, operator string, extra ...string) *workerProc {
	t.Helper()
	args := append([]string{"worker", "--home", home, "--genesis", genesis, "--operator", operator,
		"--checkpoint-every", strconv.Itoa(checkpointEvery), "--output", "json"}, extra...)
	return &workerProc{t: t, srv: newServer(t, name, c.env, args...), home: home}
}

// start runs the worker and waits until it wrote a fresh worker.json and
// its relay API answers.
func (w *workerProc) start() {
	w.t.Helper()
	infoPath := filepath.Join(w.home, "worker.json")
	if err := os.Remove(infoPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.t.Fatal(err)
	}
	w.srv.start()
	waitFor(w.t, 30*time.Second, w.srv.name+" to start", func() (bool, string, error) {
		if err := w.srv.checkAlive(); err != nil {
			return false, "", err
		}
		raw, err := os.ReadFile(infoPath)
		if err != nil {
			return false, "no worker.json yet", nil
		}
		var info workerInfo
		if err := json.Unmarshal(raw, &info); err != nil || info.RelayAPI == "" {
			return false, fmt.Sprintf("worker.json incomplete: %q", raw), nil
		}
		w.info = info
		if _, err := w.status(); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
}

// relayAPI is the relay API as the worker's own relay reaches it: with the
// token from its home.
func (w *workerProc) relayAPI() *relay.HTTPRuntime {
	tok, err := relay.ReadToken(filepath.Join(w.home, relaywire.TokenFile))
	if err != nil {
		w.t.Fatalf("%s: %v", w.srv.name, err)
	}
	return relay.NewHTTPRuntime(w.info.RelayAPI, tok)
}

func (w *workerProc) status() (relaywire.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return w.relayAPI().Status(ctx)
}

func (w *workerProc) outbox() (relaywire.Outbox, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return w.relayAPI().Outbox(ctx)
}

func (w *workerProc) mustStatus() relaywire.Status {
	w.t.Helper()
	st, err := w.status()
	if err != nil {
		w.t.Fatalf("%s status: %v", w.srv.name, err)
	}
	return st
}

// publicStatus reads the public API's JSON status.
func (w *workerProc) publicStatus() (api.StatusJSON, error) {
	var st api.StatusJSON
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.info.PublicAPI+api.PublicPathStatus, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET %s: %s", api.PublicPathStatus, resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// terminate sends SIGTERM to the current run and waits for a clean exit.
func (s *server) terminate() {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM to %s: %v", s.name, err)
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.t.Fatalf("%s did not exit 15s after SIGTERM", s.name)
	}
	if _, err := s.exited(); err != nil {
		s.t.Fatalf("%s exited with %v after SIGTERM; stderr:\n%s", s.name, err, s.stderrTail())
	}
}

// chainHead is the node's newest height (its RPC, read in-process).
func chainHead(url string) (int64, error) {
	c, err := client.New(url)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

func chainSequence(url string, id ed25519.PublicKey) (uint64, error) {
	c, err := client.New(url)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.EgressSequence(ctx, id)
}

// errSequence is the chain accepting a sender's messages out of order.
var errSequence = errors.New("a gap or a duplicate in the accepted egress")

// egressLog follows, block by block, the egress of one sender the chain
// sequenced (republished on mq.TopicEgress with its outcome), and checks
// the chain took its sequence numbers once each and in order.
type egressLog struct {
	id      ed25519.PublicKey
	scanned int64    // blocks 1..scanned were read
	through []uint64 // through[h]: the sender's last accepted seq in blocks <= h
}

// seqThrough is the last sequence number of the sender the chain accepted
// in blocks 1..h.
func (l *egressLog) seqThrough(url string, h int64) (uint64, error) {
	if l.through == nil {
		l.through = []uint64{0}
	}
	if h <= l.scanned {
		return l.through[h], nil
	}
	c, err := client.New(url)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for l.scanned < h {
		next := l.scanned + 1
		var blk mq.Block
		if err := c.Query(ctx, chainapi.QueryBlock, codec.MustMarshal(next), &blk); err != nil {
			return 0, err
		}
		last := l.through[l.scanned]
		for _, m := range blk.Messages {
			if m.Topic != mq.TopicEgress {
				continue
			}
			r, err := mq.DecodeRepublished(m.Payload)
			if err != nil {
				return 0, fmt.Errorf("block %d republishes an undecodable egress: %v", next, err)
			}
			se := r.Egress
			if !bytes.Equal(se.Egress.Sender, l.id) {
				continue
			}
			if se.Egress.Seq != last+1 {
				return 0, fmt.Errorf("%w: block %d accepted seq %d of the worker after seq %d", errSequence, next, se.Egress.Seq, last)
			}
			last = se.Egress.Seq
		}
		l.through = append(l.through, last)
		l.scanned = next
	}
	return l.through[h], nil
}

// faultRig is a devnet, a worker A and its relay, all real processes.
type faultRig struct {
	t      *testing.T
	d      *devnet
	a      *workerProc
	relay  *server
	id     ed25519.PublicKey
	egress *egressLog
}

// settled reports whether A's outbox is empty and the chain's egress
// sequence for A is the last one the chain accepted in the blocks A has
// folded. Together they say the chain holds exactly A's messages: an empty
// outbox means everything A signed up to there was confirmed, and the chain
// took nothing A had not folded yet.
func (r *faultRig) settled() (bool, string, error) {
	st, err := r.a.status()
	if err != nil {
		return false, "A: " + err.Error(), nil
	}
	ob, err := r.a.outbox()
	if err != nil {
		return false, "A outbox: " + err.Error(), nil
	}
	again, err := r.a.status()
	if err != nil {
		return false, "A: " + err.Error(), nil
	}
	if again.Height != st.Height {
		return false, "A moved while read", nil
	}
	if !st.Registered {
		return false, fmt.Sprintf("A at %d is not registered", st.Height), nil
	}
	if n := len(ob.Messages); n > 0 {
		return false, fmt.Sprintf("A at %d has %d pending (seq %d..%d)", st.Height, n, ob.Messages[0].Egress.Seq, ob.Messages[n-1].Egress.Seq), nil
	}
	onChain, err := chainSequence(r.d.url(), r.id)
	if err != nil {
		return false, "chain sequence: " + err.Error(), nil
	}
	folded, err := r.egress.seqThrough(r.d.url(), st.Height-1)
	if err != nil {
		if errors.Is(err, errSequence) {
			return false, "", err
		}
		return false, "reading blocks: " + err.Error(), nil
	}
	detail := fmt.Sprintf("A at %d, empty outbox; chain sequence %d, last accepted in blocks A folded %d", st.Height, onChain, folded)
	return onChain >= 1 && onChain == folded, detail, nil
}

// resumed waits until A has folded blocks past the chain's height at the
// fault, is registered, and its egress has settled with the chain.
func (r *faultRig) resumed(what string, faultHeight int64) {
	r.t.Helper()
	target := faultHeight + 3
	waitFor(r.t, 45*time.Second, fmt.Sprintf("A to pass height %d after %s", target, what), func() (bool, string, error) {
		for _, s := range []*server{r.d.srv, r.a.srv, r.relay} {
			if err := s.checkAlive(); err != nil {
				return false, "", err
			}
		}
		st, err := r.a.status()
		if err != nil {
			return false, err.Error(), nil
		}
		return st.Height > target && st.Registered, fmt.Sprintf("A at %d, registered %v", st.Height, st.Registered), nil
	})
	var detail string
	waitFor(r.t, 30*time.Second, "A's egress to settle with the chain after "+what, func() (bool, string, error) {
		ok, d, err := r.settled()
		detail = d
		return ok, d, err
	})
	r.t.Logf("%s: resumed; %s", what, detail)
}

// atRandomMoment waits for a new block, then a random delay: the fault
// lands anywhere in the block cycle, not at a synchronisation point.
func (r *faultRig) atRandomMoment(rng *rand.Rand) int64 {
	r.t.Helper()
	h0, err := chainHead(r.d.url())
	if err != nil {
		r.t.Fatal(err)
	}
	var h int64
	waitFor(r.t, 15*time.Second, "a new block", func() (bool, string, error) {
		h, err = chainHead(r.d.url())
		if err != nil {
			return false, err.Error(), nil
		}
		return h > h0, fmt.Sprintf("height %d", h), nil
	})
	jitter := time.NewTimer(time.Duration(rng.Int64N(int64(time.Second))))
	<-jitter.C
	if now, err := chainHead(r.d.url()); err == nil {
		h = now
	}
	return h
}

// whilePending waits until A's outbox holds a message (a heartbeat is due
// every enclave.HeartbeatEvery blocks) and returns the chain's height.
func (r *faultRig) whilePending() int64 {
	r.t.Helper()
	waitFor(r.t, 60*time.Second, "A to sign an egress message", func() (bool, string, error) {
		if err := r.a.srv.checkAlive(); err != nil {
			return false, "", err
		}
		ob, err := r.a.outbox()
		if err != nil {
			return false, err.Error(), nil
		}
		return len(ob.Messages) > 0, "outbox empty", nil
	})
	h, err := chainHead(r.d.url())
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// restartWorker SIGKILLs A and starts it again on its home, where it must
// resume from a checkpoint and listen where the relay expects it.
func (r *faultRig) restartWorker(relayURL string) {
	r.t.Helper()
	before := r.a.mustStatus().Height
	r.a.srv.kill()
	r.a.start()
	if r.a.info.RelayAPI != relayURL {
		r.t.Fatalf("restarted worker serves its relay API at %s, asked for %s", r.a.info.RelayAPI, relayURL)
	}
	// worker.json has the height it resumed at, before any block was fed.
	resumed := r.a.info.Height
	r.t.Logf("worker killed at height >= %d, resumed from its checkpoint at %d", before, resumed)
	// A kill during a checkpoint's write may cost the newest one.
	if resumed < before-2*checkpointEvery {
		r.t.Errorf("worker killed at height >= %d resumed at %d: checkpoints every %d blocks", before, resumed, checkpointEvery)
	}
}

// copyFile copies one private file, creating its directory.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyIdentity gives home B the sealed keys and sim TEE secret of home A:
// the same node, without its checkpoints.
func copyIdentity(t *testing.T, homeA, homeB string) {
	t.Helper()
	if err := copyFile(filepath.Join(homeA, enclave.KeysFile), filepath.Join(homeB, enclave.KeysFile)); err != nil {
		t.Fatal(err)
	}
	simA := filepath.Join(homeA, "tee-sim")
	err := filepath.WalkDir(simA, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(simA, path)
		if err != nil {
			return err
		}
		return copyFile(path, filepath.Join(homeB, "tee-sim", rel))
	})
	if err != nil {
		t.Fatalf("copying the sim TEE secret: %v", err)
	}
}

// feedTo brings the worker at w up to exactly height h from the node at url,
// the way a relay would, in batches that never pass h.
func feedTo(t *testing.T, url string, w *workerProc, h int64) relaywire.Status {
	t.Helper()
	src, err := relay.NewSource(url, relay.WithBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := w.mustStatus()
	for st.Height < h {
		b, err := src.Batch(ctx, st.Height, h)
		if err != nil {
			t.Fatalf("batch after %d up to %d: %v", st.Height, h, err)
		}
		next, err := w.relayAPI().Feed(ctx, b)
		if err != nil {
			t.Fatalf("feeding %s blocks %d..%d: %v", w.srv.name, st.Height+1, st.Height+int64(len(b.Blocks)), err)
		}
		if next.Height <= st.Height {
			t.Fatalf("%s took a batch after %d but stayed at %d", w.srv.name, st.Height, next.Height)
		}
		st = next
	}
	if st.Height != h {
		t.Fatalf("%s fed to %d, want exactly %d", w.srv.name, st.Height, h)
	}
	return st
}

// TestWorkerRelayNodeSurviveKill9 runs a devnet node, a worker runtime and
// its relay as three processes, SIGKILLs each once at a random moment while
// blocks flow (and the worker once more while an egress message it signed
// is in flight), and checks that all three resume: the runtime passes the
// chain's height at the fault, stays registered, and every egress message
// it signed lands on chain exactly once. Then it compares the runtime with
// one of the same identity that never stopped, fed the same blocks: their
// state hashes and outboxes must be equal.
func TestWorkerRelayNodeSurviveKill9(t *testing.T) {
	skipShort(t)
	began := time.Now()
	c := newCLI(t)
	d := startDevnet(t, c, "--no-worker")
	genesis := filepath.Join(d.home, "config", "genesis.json")

	// Fixed loopback ports below the ephemeral range, so the relay finds
	// the restarted runtime where it left it.
	base := freePortRange(t, 2)
	homeA := filepath.Join(t.TempDir(), "worker-a")
	bob := d.info.address(t, "bob")
	a := newWorker(t, c, "worker-a", homeA, genesis, bob,
		"--relay-listen", fmt.Sprintf("127.0.0.1:%d", base), "--listen", fmt.Sprintf("127.0.0.1:%d", base+1))
	a.start()
	relayURL := a.info.RelayAPI
	if a.info.Height != 0 || a.info.Registered {
		t.Fatalf("a fresh worker reports %+v", a.info)
	}
	genesisHash := a.mustStatus().StateHash

	env := c.withEnv("PHALA_PASSPHRASE=" + devPassphrase)
	rl := newServer(t, "relay", env, "relay", "--runtime", relayURL, "--worker-home", homeA, "--key", "bob",
		"--node", d.url(), "--keyring", d.info.Keyring, "--output", "json")
	rl.start()

	id := ed25519.PublicKey(a.mustStatus().IdentityKey)
	if hex.EncodeToString(id) != a.info.IdentityKey {
		t.Fatalf("worker.json identity %s, relay API %x", a.info.IdentityKey, id)
	}
	r := &faultRig{t: t, d: d, a: a, relay: rl, id: id, egress: &egressLog{id: id}}
	waitFor(t, 60*time.Second, "A registered with its first heartbeat on chain", func() (bool, string, error) {
		for _, s := range []*server{d.srv, a.srv, rl} {
			if err := s.checkAlive(); err != nil {
				return false, "", err
			}
		}
		st, err := a.status()
		if err != nil {
			return false, err.Error(), nil
		}
		seq, err := chainSequence(d.url(), id)
		if err != nil {
			return false, err.Error(), nil
		}
		return st.Registered && seq >= 1, fmt.Sprintf("A at %d registered %v, chain sequence %d", st.Height, st.Registered, seq), nil
	})
	r.resumed("registration", 0)
	t.Logf("registered after %v", time.Since(began).Round(time.Millisecond))

	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc908))
	faults := []string{"worker", "relay", "node"}
	rng.Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	// Last, the worker again while a message it signed is on its way: the
	// moment an egress could be lost or sent twice.
	faults = append(faults, "worker with pending egress")
	for _, which := range faults {
		var h int64
		if which == "worker with pending egress" {
			h = r.whilePending()
		} else {
			h = r.atRandomMoment(rng)
		}
		switch which {
		case "worker", "worker with pending egress":
			r.restartWorker(relayURL)
		case "relay":
			rl.kill()
			rl.start()
		case "node":
			d.srv.kill()
			d.start()
		}
		r.resumed(fmt.Sprintf("kill -9 of the %s at chain height %d", which, h), h)
	}
	// At least one periodic heartbeat, signed after registration, must
	// have landed too (one is due every enclave.HeartbeatEvery blocks).
	var seqEnd uint64
	waitFor(t, 45*time.Second, "a periodic heartbeat of A on chain, settled", func() (bool, string, error) {
		ok, detail, err := r.settled()
		if err != nil || !ok {
			return false, detail, err
		}
		seqEnd, err = chainSequence(d.url(), id)
		return err == nil && seqEnd >= 2, detail, nil
	})

	// Freeze A: with its relay stopped nothing feeds it.
	rl.terminate()
	final := a.mustStatus()
	finalOut, err := a.outbox()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := a.publicStatus()
	if err != nil {
		t.Fatal(err)
	}
	if pub.Height != final.Height || pub.StateHash != hex.EncodeToString(final.StateHash) || !pub.Registered || pub.Role != "worker" {
		t.Errorf("public status %+v disagrees with the relay API's %+v", pub, final)
	}
	if bytes.Equal(final.StateHash, genesisHash) {
		t.Fatalf("A's state at %d still hashes as genesis", final.Height)
	}

	// B: the same node (keys and sim secret), no checkpoints, never stopped.
	homeB := filepath.Join(t.TempDir(), "worker-b")
	copyIdentity(t, homeA, homeB)
	b := newWorker(t, c, "worker-b", homeB, genesis, bob)
	b.start()
	stB := b.mustStatus()
	if !bytes.Equal(stB.IdentityKey, id) || stB.Height != 0 || !bytes.Equal(stB.StateHash, genesisHash) {
		t.Fatalf("B starts as %x at %d with state %x; want identity %x at 0 with the genesis state %x", stB.IdentityKey, stB.Height, stB.StateHash, id, genesisHash)
	}
	stB = feedTo(t, d.url(), b, final.Height)
	outB, err := b.outbox()
	if err != nil {
		t.Fatal(err)
	}
	if again := a.mustStatus(); again.Height != final.Height || !bytes.Equal(again.StateHash, final.StateHash) {
		t.Fatalf("A moved after its relay stopped: %d/%x, then %d/%x", final.Height, final.StateHash, again.Height, again.StateHash)
	}
	if !bytes.Equal(stB.BlockHash, final.BlockHash) {
		t.Fatalf("at height %d A verified block %x, B %x", final.Height, final.BlockHash, stB.BlockHash)
	}
	if !bytes.Equal(stB.StateHash, final.StateHash) || stB.Registered != final.Registered {
		t.Fatalf("at height %d A (killed and resumed) has state %x registered %v, B (never stopped) %x registered %v",
			final.Height, final.StateHash, final.Registered, stB.StateHash, stB.Registered)
	}
	if !bytes.Equal(codec.MustMarshal(outB), codec.MustMarshal(finalOut)) {
		t.Fatalf("at height %d A's outbox holds %d messages, B's %d, or they differ", final.Height, len(finalOut.Messages), len(outB.Messages))
	}
	t.Logf("A and B agree at height %d: state %x, %d pending; chain sequence %d; took %v",
		final.Height, final.StateHash[:8], len(finalOut.Messages), seqEnd, time.Since(began).Round(time.Millisecond))
}
