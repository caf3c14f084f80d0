package relay

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCatchUpThroughput measures a fresh runtime catching up with a long
// chain through the relay's source: set RELAY_CATCHUP_BLOCKS (e.g. 10000)
// to run it; it takes as long as the devnet needs to make the blocks.
func TestCatchUpThroughput(t *testing.T) {
	n, _ := strconv.ParseInt(os.Getenv("RELAY_CATCHUP_BLOCKS"), 10, 64)
	if n <= 0 {
		t.Skip("set RELAY_CATCHUP_BLOCKS to measure catch-up")
	}
	d := startDevnetTiming(t, veryFastTiming())
	start := time.Now()
	eventually(t, time.Hour, "the devnet to make the blocks", func() (bool, string) {
		return d.v.Node.Height() >= n, strconv.FormatInt(d.v.Node.Height(), 10)
	})
	t.Logf("devnet made %d blocks in %v", n, time.Since(start).Round(time.Millisecond))
	src, err := NewSource(d.url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	start = time.Now()
	batches := 0
	for v := int64(0); v < n; batches++ {
		b, err := src.Batch(ctx, v, n)
		if err != nil {
			t.Fatal(err)
		}
		v += int64(len(b.Blocks))
	}
	built := time.Since(start)
	t.Logf("source: %d blocks in %d batches in %v (%.0f blocks/s)", n, batches, built.Round(time.Millisecond), float64(n)/built.Seconds())

	w := startWorker(t, d, t.TempDir())
	rt := w.client()
	start = time.Now()
	st, err := rt.Status(ctx)
	for err == nil && st.Height < n {
		batch, berr := src.Batch(ctx, st.Height, n)
		if berr != nil {
			t.Fatal(berr)
		}
		st, err = rt.Feed(ctx, batch)
	}
	if err != nil {
		t.Fatal(err)
	}
	fed := time.Since(start)
	t.Logf("source + runtime: %d blocks in %v (%.0f blocks/s)", n, fed.Round(time.Millisecond), float64(n)/fed.Seconds())

	// The whole loop: a fresh runtime, the relay feeding and registering it.
	w = startWorker(t, d, t.TempDir())
	var progress strings.Builder
	r, err := New(Config{Source: src, Runtime: w.client(), Chain: d.client(t), Operator: devKey("alice"), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	start = time.Now()
	go func() { done <- r.Run(ctx) }()
	eventually(t, 5*time.Minute, "the relay to catch up", func() (bool, string) {
		return w.rt.Status().Height >= n, ""
	})
	looped := time.Since(start)
	cancel()
	<-done
	t.Logf("relay loop: %d blocks in %v (%.0f blocks/s); progress:\n%s", n, looped.Round(time.Millisecond), float64(n)/looped.Seconds(), progress.String())
}
