package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/api"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/lightclient"
)

// The HTTP client speaks the runtime's relay API.
var _ Runtime = (*HTTPRuntime)(nil)

// worker is a real runtime behind its relay API on a loopback port.
type worker struct {
	home  string
	rt    *enclave.Runtime
	srv   *api.Server
	token string // the relay API's secret
}

// client is the relay API as the worker's own relay reaches it.
func (w *worker) client() *HTTPRuntime { return NewHTTPRuntime(w.srv.URL(), w.token) }

func startWorker(t *testing.T, d *devnet, home string) *worker {
	t.Helper()
	platform, err := sim.New(sim.WithDir(home), sim.WithWarnings(nopWriter{}))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := enclave.Open(enclave.Config{
		Home: home, Genesis: lightGenesis(t, d.v.Node.Comet().GenesisDoc()), Platform: platform,
		CheckpointEvery: 10, Operator: address.FromPublicKey(devKey("alice").Public().(ed25519.PublicKey)), Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(home, relaywire.TokenFile)
	tok, err := api.LoadOrCreateToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := ReadToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.Listen("127.0.0.1:0", api.NewRelayHandler(rt, tok))
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{home: home, rt: rt, srv: srv, token: secret}
	t.Cleanup(func() { w.stop(t) })
	return w
}

// lightGenesis is the node's genesis as a worker reads it from genesis.json.
func lightGenesis(t *testing.T, doc *cmttypes.GenesisDoc) *lightclient.Genesis {
	t.Helper()
	raw, err := cmtjson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lightclient.ParseGenesis(raw)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (w *worker) stop(t *testing.T) {
	if w.srv == nil {
		return
	}
	if err := w.srv.Close(context.Background()); err != nil {
		t.Errorf("closing the runtime API: %v", err)
	}
	if err := w.rt.Close(); err != nil {
		t.Errorf("closing the runtime: %v", err)
	}
	w.srv = nil
}

// crash drops the runtime without its closing checkpoint, as a killed
// process would: the next one resumes from an older checkpoint.
func (w *worker) crash(t *testing.T) {
	if err := w.srv.Close(context.Background()); err != nil {
		t.Errorf("closing the runtime API: %v", err)
	}
	w.srv = nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// running is a relay goroutine the test can stop.
type running struct {
	relay  *Relay
	cancel context.CancelFunc
	done   chan error
}

func startRelay(t *testing.T, d *devnet, w *worker) *running {
	t.Helper()
	return startRelayAs(t, d, w, devKey("alice"))
}

// startRelayAs starts a relay paying with operator.
func startRelayAs(t *testing.T, d *devnet, w *worker, operator ed25519.PrivateKey) *running {
	t.Helper()
	src, err := NewSource(d.url, WithBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{
		Source: src, Runtime: w.client(), Chain: d.client(t), Operator: operator,
		Poll: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Log: testLog(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	run := &running{relay: r, cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- r.Run(ctx) }()
	t.Cleanup(func() { run.stop(t) })
	return run
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("relay returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("relay did not stop")
	}
}

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		<-tick.C
	}
	t.Fatalf("timed out waiting for %s (last: %s)", what, last)
}

// sequences reads the chain's egress sequence of the worker and what the
// worker counts as confirmed.
func sequences(t *testing.T, c *client.Client, w *worker) (chain, confirmed uint64, pending int) {
	t.Helper()
	st, err := w.rt.State()
	if err != nil {
		t.Fatal(err)
	}
	seq, err := c.EgressSequence(t.Context(), w.rt.IdentityKey())
	if err != nil {
		return 0, 0, -1
	}
	pending = len(st.Outbox.Pending)
	return seq, st.Outbox.NextSeq - 1 - uint64(pending), pending
}

// settled waits until the worker has caught up with a confirmed heartbeat
// at least atLeast, nothing pending, and its view of its sequence equal to
// the chain's: nothing lost, nothing counted twice.
func settled(t *testing.T, d *devnet, w *worker, atLeast uint64) {
	t.Helper()
	c := d.client(t)
	eventually(t, 90*time.Second, "the chain to confirm the worker's egress", func() (bool, string) {
		seq, confirmed, pending := sequences(t, c, w)
		st := w.rt.Status()
		state := fmt.Sprintf("chain seq %d, runtime confirmed %d, pending %d, runtime height %d, registered %v", seq, confirmed, pending, st.Height, st.Registered)
		return st.Registered && seq >= atLeast && pending == 0 && seq == confirmed, state
	})
}

func TestRelayRegistersAndDeliversEgress(t *testing.T) {
	d := startDevnet(t)
	w := startWorker(t, d, t.TempDir())
	r := startRelay(t, d, w)
	settled(t, d, w, 1)

	st := w.rt.Status()
	head := d.v.Node.Height()
	if head-st.Height > 20 {
		t.Fatalf("runtime at %d, chain at %d", st.Height, head)
	}
	node, err := d.client(t).Node(t.Context(), w.rt.IdentityKey())
	if err != nil || !node.Active || !bytes.Equal(node.IdentityKey, w.rt.IdentityKey()) {
		t.Fatalf("worker on chain: %+v (%v)", node, err)
	}
	if got := metricLabeled(t, r.relay.Metrics(), "phala_relay_registration_attempts_total", "outcome", "ok"); got != 1 {
		t.Fatalf("%v successful registrations, want 1", got)
	}
	if got := metricSum(t, r.relay.Metrics(), "phala_relay_egress_submitted_total"); got < 1 {
		t.Fatalf("%v egress submitted", got)
	}
}

func TestRelayResumesAfterRestarts(t *testing.T) {
	d := startDevnet(t)
	home := t.TempDir()
	w := startWorker(t, d, home)
	r := startRelay(t, d, w)
	settled(t, d, w, 1)

	// The relay stops; the chain moves on; a new relay picks up from what
	// the runtime and the chain say.
	r.stop(t)
	d.waitHeight(t, d.v.Node.Height()+2*enclave.HeartbeatEvery)
	r = startRelay(t, d, w)
	seq, _, _ := sequences(t, d.client(t), w)
	settled(t, d, w, seq+1)

	// The runtime stops cleanly, and restarts from its last checkpoint.
	r.stop(t)
	w.stop(t)
	w = startWorker(t, d, home)
	r = startRelay(t, d, w)
	seq, _, _ = sequences(t, d.client(t), w)
	settled(t, d, w, seq+1)

	// The runtime crashes under a running relay, and restarts from an
	// older checkpoint: it regenerates egress the chain already has.
	w.crash(t)
	behind := w.rt.Status().Height
	w = startWorker(t, d, home)
	if got := w.rt.Status().Height; got > behind {
		t.Fatalf("restarted runtime at %d, ahead of the crashed one at %d", got, behind)
	}
	r.stop(t)
	r = startRelay(t, d, w)
	seq, _, _ = sequences(t, d.client(t), w)
	settled(t, d, w, seq+1)

	// The node restarts under a running relay.
	d.stop(t)
	d.start(t)
	seq, _, _ = sequences(t, d.client(t), w)
	settled(t, d, w, seq+1)
	t.Logf("rounds retried across the restarts: %v", metricSum(t, r.relay.Metrics(), "phala_relay_retries_total"))
}

// metricSum adds up every series of the named metric.
func metricSum(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			switch {
			case s.Counter != nil:
				sum += s.Counter.GetValue()
			case s.Gauge != nil:
				sum += s.Gauge.GetValue()
			}
		}
	}
	return sum
}

// metricLabeled is the value of the named metric's series with label=value.
func metricLabeled(t *testing.T, m *Metrics, name, label, value string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
