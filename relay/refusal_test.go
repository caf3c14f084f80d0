package relay

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

// tamperOnce corrupts the first batch it forwards, as a faulty node or a
// malicious host would, then behaves.
type tamperOnce struct {
	Runtime
	once sync.Once
}

func (t *tamperOnce) Feed(ctx context.Context, b relaywire.Batch) (relaywire.Status, error) {
	t.once.Do(func() {
		last := &b.Blocks[len(b.Blocks)-1]
		last.Parent.Messages = append(last.Parent.Messages, mq.Message{Topic: "forged", Payload: []byte{1}})
		if last.Parent.StateRoot == nil {
			last.Parent.StateRoot = make([]byte, 32)
		}
	})
	return t.Runtime.Feed(ctx, b)
}

// recorder remembers every egress message it saw in an outbox.
type recorder struct {
	Runtime
	mu   sync.Mutex
	seen map[uint64]mq.SignedEgress
}

func (r *recorder) Outbox(ctx context.Context) (relaywire.Outbox, error) {
	o, err := r.Runtime.Outbox(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range o.Messages {
		r.seen[m.Egress.Seq] = m
	}
	return o, err
}

func (r *recorder) messages() []mq.SignedEgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mq.SignedEgress
	for seq := uint64(1); ; seq++ {
		m, ok := r.seen[seq]
		if !ok {
			return out
		}
		out = append(out, m)
	}
}

func newTestRelay(t *testing.T, d *devnet, rt Runtime) *Relay {
	t.Helper()
	src, err := NewSource(d.url, WithBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Source: src, Runtime: rt, Chain: d.client(t), Operator: devKey("alice"),
		Poll: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func runRelay(t *testing.T, r *Relay) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
}

func TestRelayRecoversFromARefusedBatch(t *testing.T) {
	d := startDevnet(t)
	d.waitHeight(t, 5)
	w := startWorker(t, d, t.TempDir())
	r := newTestRelay(t, d, &tamperOnce{Runtime: w.client()})
	runRelay(t, r)
	settled(t, d, w, 1)
	if got := metricSum(t, r.Metrics(), "phala_relay_batches_refused_total"); got != 1 {
		t.Fatalf("%v refused batches counted, want 1", got)
	}
	if got := metricSum(t, r.Metrics(), "phala_relay_retries_total"); got < 1 {
		t.Fatalf("a refused batch was not retried")
	}
}

func TestRelayCountsRedeliveredEgressAsDuplicates(t *testing.T) {
	d := startDevnet(t)
	w := startWorker(t, d, t.TempDir())
	rec := &recorder{Runtime: w.client(), seen: map[uint64]mq.SignedEgress{}}
	r := newTestRelay(t, d, rec)
	runRelay(t, r)
	settled(t, d, w, 1)

	// A second relay that resends everything the first one delivered
	// (as a relay that crashed before seeing its transactions land would)
	// gets each refused as a duplicate, and that is not an error.
	msgs := rec.messages()
	if len(msgs) == 0 {
		t.Fatal("no egress recorded")
	}
	again := newTestRelay(t, d, rec)
	head, err := again.cfg.Source.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again.chainID = head.ChainID
	if err := again.sendAfter(t.Context(), msgs, 0, head); err != nil {
		t.Fatal(err)
	}
	if got := metricSum(t, again.Metrics(), "phala_relay_egress_duplicates_total"); got != float64(len(msgs)) {
		t.Fatalf("%v duplicates counted for %d resent messages", got, len(msgs))
	}
	if got := metricSum(t, again.Metrics(), "phala_relay_egress_submitted_total"); got != 0 {
		t.Fatalf("%v resent messages accepted by the chain", got)
	}
}
