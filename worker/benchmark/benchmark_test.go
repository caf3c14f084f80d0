package benchmark

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// The workload is the same everywhere: its digest after a number of steps
// is pinned, so a change of the workload (which would change every
// machine's score) is a deliberate one.
func TestDigestPinned(t *testing.T) {
	w := New()
	if w.Digest() != seed {
		t.Fatal("the initial digest is not the seed")
	}
	for range 10_000 {
		w.Step()
	}
	const want = "2aef860f7cf8ba2675335a8eaeb4b7db1a0c802c5f30d49bb5a216537fa566fe"
	if d := w.Digest(); hex.EncodeToString(d[:]) != want {
		got := hex.EncodeToString(d[:])
		t.Fatalf("digest after 10,000 steps = %s, want %s", got, want)
	}
	if w.Steps() != 10_000 {
		t.Fatalf("Steps = %d", w.Steps())
	}
	again := New()
	for range 10_000 {
		again.Step()
	}
	if again.Digest() != w.Digest() {
		t.Fatal("two runs differ")
	}
}

// clock is a clock that moves tick forward at every reading.
func clock(tick time.Duration) func() time.Time {
	at := time.Unix(1_700_000_000, 0)
	return func() time.Time {
		now := at
		at = at.Add(tick)
		return now
	}
}

func TestMeasure(t *testing.T) {
	// Each batch of 256 steps takes 1 ms on this clock (one reading a
	// batch, one to start each window): windows of 2 ms, 256,000 steps a
	// second, score 256,000/150.
	r, err := Measure(10*time.Millisecond, clock(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps != 2*batch || r.Elapsed != 2*time.Millisecond || r.Score != 256_000/unitsPerScore {
		t.Fatalf("Measure = %+v", r)
	}
	for _, d := range []time.Duration{0, time.Millisecond} {
		if _, err := Measure(d, clock(0)); !errors.Is(err, ErrClock) {
			t.Fatalf("a stopped clock, %v: %v", d, err)
		}
	}
}

func TestScore(t *testing.T) {
	cases := []struct {
		steps   uint64
		elapsed time.Duration
		want    uint64
	}{
		{300_000, time.Second, 2_000},
		{150, time.Second, 1},
		{149, time.Second, 0},
		{600_000, 2 * time.Second, 2_000},
		{1 << 62, time.Nanosecond, ^uint64(0)}, // beyond a word: saturates
	}
	for _, c := range cases {
		if got := score(c.steps, c.elapsed); got != c.want {
			t.Errorf("score(%d, %v) = %d, want %d", c.steps, c.elapsed, got, c.want)
		}
	}
}

// The real thing on this machine, for the README's figure.
func TestMeasureRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("times a second of work")
	}
	r, err := Measure(200*time.Millisecond, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Score == 0 {
		t.Fatalf("score 0 after %d steps in %v", r.Steps, r.Elapsed)
	}
	t.Logf("score %d (%d steps in %v)", r.Score, r.Steps, r.Elapsed)
}

func BenchmarkStep(b *testing.B) {
	w := New()
	for b.Loop() {
		w.Step()
	}
}
