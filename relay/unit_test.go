package relay

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/mq"
)

func TestUntilValidatorChange(t *testing.T) {
	same := func(h int64) cometrpc.Header {
		return cometrpc.Header{Height: h, ValidatorsHash: []byte("a"), NextValidatorsHash: []byte("a")}
	}
	change := func(h int64) cometrpc.Header {
		return cometrpc.Header{Height: h, ValidatorsHash: []byte("a"), NextValidatorsHash: []byte("b")}
	}
	tests := []struct {
		name string
		in   []cometrpc.Header
		want int64 // last height kept
	}{
		{"no change keeps all", []cometrpc.Header{same(1), same(2), same(3)}, 3},
		{"change in the middle ends there", []cometrpc.Header{same(1), change(2), same(3)}, 2},
		{"change first is a batch of one", []cometrpc.Header{change(1), change(2)}, 1},
		{"change last keeps all", []cometrpc.Header{same(1), change(2)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := untilValidatorChange(tt.in)
			if got[len(got)-1].Height != tt.want {
				t.Fatalf("kept up to %d, want %d", got[len(got)-1].Height, tt.want)
			}
		})
	}
}

func TestBySenderOrdersEachSender(t *testing.T) {
	msg := func(sender byte, seq uint64) mq.SignedEgress {
		return mq.SignedEgress{Egress: mq.Egress{Sender: bytes.Repeat([]byte{sender}, 32), Seq: seq}}
	}
	groups := bySender([]mq.SignedEgress{msg(1, 3), msg(2, 1), msg(1, 1), msg(1, 2), msg(2, 2)})
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	for _, g := range groups {
		for i := range g {
			if g[i].Egress.Seq != uint64(i+1) || !bytes.Equal(g[i].Egress.Sender, g[0].Egress.Sender) {
				t.Fatalf("group %v out of order", g)
			}
		}
	}
}

func TestBackoffDoublesToItsCap(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.next(); got != w*time.Millisecond {
			t.Fatalf("wait %d: %v, want %v", i, got, w*time.Millisecond)
		}
	}
	b.reset()
	if got := b.next(); got != 100*time.Millisecond {
		t.Fatalf("after reset: %v", got)
	}
}

func TestProgressIsThrottled(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, time.Second)
	now := time.Unix(0, 0)
	p.now = func() time.Time { return now }
	steps := []struct {
		after  time.Duration
		height int64
		lines  int
	}{
		{0, 0, 0},                         // baseline
		{300 * time.Millisecond, 500, 0},  // within the interval
		{700 * time.Millisecond, 1000, 1}, // a line: 1000 blocks in 1s
		{100 * time.Millisecond, 1100, 1},
		{time.Second, 2000, 2},
		{10 * time.Millisecond, 10_000, 3}, // caught up: a last line
	}
	for i, s := range steps {
		now = now.Add(s.after)
		p.update(s.height, 10_000)
		if got := strings.Count(out.String(), "\n"); got != s.lines {
			t.Fatalf("step %d: %d lines, want %d:\n%s", i, got, s.lines, out.String())
		}
	}
	first := strings.Split(out.String(), "\n")[0]
	if !strings.Contains(first, "height 1000 of 10000, 9000 behind, 1000 blocks/s, ETA 9s") {
		t.Fatalf("progress line %q", first)
	}
	if !strings.Contains(out.String(), "caught up at height 10000") {
		t.Fatalf("no caught-up line:\n%s", out.String())
	}
}

func TestProgressQuietForShortCatchUp(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, time.Second)
	p.update(10, 12)
	p.update(12, 12)
	p.done()
	if out.Len() != 0 {
		t.Fatalf("printed %q for two blocks", out.String())
	}
}

func TestParallelRunsEveryIndexAndStopsOnError(t *testing.T) {
	var seen [100]atomic.Bool
	if err := parallel(t.Context(), 8, 100, func(_ context.Context, i int) error {
		seen[i].Store(true)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if !seen[i].Load() {
			t.Fatalf("index %d not run", i)
		}
	}
	boom := errors.New("boom")
	var ran atomic.Int32
	err := parallel(t.Context(), 2, 10_000, func(ctx context.Context, i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if ran.Load() == 10_000 {
		t.Fatal("an error did not stop the remaining work")
	}
}
