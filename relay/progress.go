package relay

import (
	"fmt"
	"io"
	"time"
)

// progress prints catch-up progress at most once per interval: height,
// blocks behind, rate since the previous line, and the time left at that
// rate.
type progress struct {
	w        io.Writer
	every    time.Duration
	now      func() time.Time
	last     time.Time
	lastH    int64
	started  bool
	reported bool
}

func newProgress(w io.Writer, every time.Duration) *progress {
	return &progress{w: w, every: every, now: time.Now}
}

// update is called after each batch with the runtime's and chain's height.
func (p *progress) update(height, chain int64) {
	if p.w == nil {
		return
	}
	now := p.now()
	if !p.started {
		p.started, p.last, p.lastH = true, now, height
		return
	}
	elapsed := now.Sub(p.last)
	caughtUp := height >= chain
	switch {
	case caughtUp && !p.reported:
		p.done() // caught up within one interval: nothing worth a line
		return
	case !caughtUp && elapsed < p.every:
		return
	}
	rate := float64(height-p.lastH) / elapsed.Seconds()
	fmt.Fprintln(p.w, progressLine(height, chain, rate))
	p.last, p.lastH, p.reported = now, height, true
	if caughtUp {
		p.done()
	}
}

// done resets the reporter once the runtime has caught up, so the next
// catch-up measures its own rate.
func (p *progress) done() { p.started, p.reported = false, false }

func progressLine(height, chain int64, rate float64) string {
	behind := max(chain-height, 0)
	if behind == 0 {
		return fmt.Sprintf("relay: caught up at height %d (%.0f blocks/s)", height, rate)
	}
	eta := "unknown"
	if rate > 0 {
		left := time.Duration(float64(behind) / rate * float64(time.Second))
		round := time.Second
		if left < 10*time.Second {
			round = 100 * time.Millisecond
		}
		eta = left.Round(round).String()
	}
	return fmt.Sprintf("relay: height %d of %d, %d behind, %.0f blocks/s, ETA %s", height, chain, behind, rate, eta)
}
