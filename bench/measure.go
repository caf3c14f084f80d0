package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	cmtpubsub "github.com/cometbft/cometbft/libs/pubsub"
	"github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/node"
)

// subscriber names the benchmark's event-bus subscription.
const subscriber = "phala-bench"

// startTimeout bounds how long the node may take to commit its first block.
const startTimeout = time.Minute

// measure feeds n's mempool for o.Duration, one goroutine per source, and
// counts what blocks committed in that window. A source returns nil when it
// has nothing left.
func measure(ctx context.Context, label string, o Options, n *node.Node, app *timedApp, sources []func() []byte) (Result, error) {
	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	err := n.WaitHeight(wctx, 1)
	cancel()
	if err != nil {
		return Result{}, fmt.Errorf("%s: node did not start committing: %w", label, err)
	}
	bus := n.Comet().EventBus()
	subCtx, cancelSub := context.WithCancel(ctx)
	defer cancelSub()
	sub, err := bus.Subscribe(subCtx, subscriber, types.EventQueryNewBlock, 1000)
	if err != nil {
		return Result{}, fmt.Errorf("%s: subscribing to blocks: %w", label, err)
	}
	defer func() { _ = bus.UnsubscribeAll(context.Background(), subscriber) }()

	mp := n.Comet().Mempool()
	c := &counter{}
	size := n.Comet().Config().Mempool.Size
	// Each source has at most one transaction in flight, so the mempool
	// never holds more than size.
	f := &feeder{mp: mp, high: size - len(sources)}
	fmt.Fprintf(o.Progress, "%s: node at height %d; feeding for %s (feeders %d, timeout_commit %s, mempool size %d)\n",
		label, n.Height(), o.Duration, len(sources), o.Timing.TimeoutCommit, size)

	app0, cpu0 := app.times(), processCPU()
	start := time.Now()
	end := start.Add(o.Duration)
	c.from, c.to = start, end
	stopCount := make(chan struct{})
	countErr := make(chan error, 1)
	go func() { countErr <- c.run(sub, stopCount) }()
	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	progressDone.Add(1)
	go func() {
		defer progressDone.Done()
		report(label, o, n, c, f, start, stopProgress)
	}()

	feedErr := f.run(ctx, end, sources)
	elapsed := time.Since(start)
	appTime, cpu := app.times().sub(app0), processCPU()-cpu0
	if elapsed > o.Duration {
		elapsed = o.Duration // blocks seen after end are not counted
	}
	close(stopCount)
	cerr := <-countErr
	close(stopProgress)
	progressDone.Wait()

	res := c.result()
	res.Rejected, res.Submitted, res.Exhausted = f.counts()
	res.Elapsed = elapsed
	res.App = appTime
	res.CPU = cpu
	if elapsed > 0 {
		res.PerSecond = float64(res.Committed) / elapsed.Seconds()
	}
	if err := errors.Join(feedErr, cerr); err != nil {
		return res, fmt.Errorf("%s: %w", label, err)
	}
	fmt.Fprintf(o.Progress, "%s: %d committed in %s over %d blocks (largest %d txs): %.0f/s\n",
		label, res.Committed, res.Elapsed.Round(time.Millisecond), res.Blocks, res.MaxBlockTxs, res.PerSecond)
	fmt.Fprintf(o.Progress, "%s: process CPU %s in the window, %s per committed transaction\n",
		label, cpu.Round(time.Millisecond), res.CPUPerTx())
	fmt.Fprintf(o.Progress, "%s: application busy %s of %s: %s\n", label,
		appTime.Busy().Round(time.Millisecond), elapsed.Round(time.Millisecond), appTime)
	return res, nil
}

// counter tallies the transactions of blocks whose commit it sees within
// [from, to]: the node publishes a block's event once the block and its
// results are committed.
type counter struct {
	from, to time.Time

	mu          sync.Mutex
	committed   int
	failed      int
	blocks      int
	maxBlockTxs int
	height      int64
}

func (c *counter) run(sub types.Subscription, stop <-chan struct{}) error {
	for {
		select {
		case msg := <-sub.Out():
			c.add(msg, time.Now())
		case <-sub.Canceled():
			return fmt.Errorf("block subscription ended: %w", sub.Err())
		case <-stop:
			for { // what already arrived
				select {
				case msg := <-sub.Out():
					c.add(msg, time.Now())
				default:
					return nil
				}
			}
		}
	}
}

func (c *counter) add(msg cmtpubsub.Message, at time.Time) {
	ev, ok := msg.Data().(types.EventDataNewBlock)
	if !ok || at.Before(c.from) || at.After(c.to) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blocks++
	c.height = ev.Block.Height
	c.maxBlockTxs = max(c.maxBlockTxs, len(ev.ResultFinalizeBlock.TxResults))
	for _, r := range ev.ResultFinalizeBlock.TxResults {
		if r.Code == 0 {
			c.committed++
		} else {
			c.failed++
		}
	}
}

func (c *counter) result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Result{Committed: c.committed, Failed: c.failed, Blocks: c.blocks, MaxBlockTxs: c.maxBlockTxs}
}

// feeder submits transactions to the mempool, each source's in order and
// one at a time, and never past the mempool's capacity: a transaction the
// application accepted but the mempool then dropped for lack of room would
// leave a nonce gap behind it.
type feeder struct {
	mp   mempool.Mempool
	high int // submit only while the mempool holds fewer than this

	mu        sync.Mutex
	submitted int
	rejected  int
	exhausted bool
	firstErr  error
}

func (f *feeder) run(ctx context.Context, end time.Time, sources []func() []byte) error {
	errs := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, next := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.feed(ctx, end, next)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (f *feeder) feed(ctx context.Context, end time.Time, next func() []byte) error {
	var tx []byte // the transaction to submit next
	for time.Now().Before(end) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.mp.Size() >= f.high {
			time.Sleep(500 * time.Microsecond)
			continue
		}
		if tx == nil {
			if tx = next(); tx == nil {
				f.mu.Lock()
				f.exhausted = true
				f.mu.Unlock()
				return sleepUntil(ctx, end)
			}
		}
		rr, err := f.mp.CheckTx(tx, "")
		var full mempool.ErrMempoolIsFull
		switch {
		case errors.As(err, &full) || errors.Is(err, mempool.ErrRecheckFull):
			time.Sleep(500 * time.Microsecond) // retry the same one
			continue
		case err == nil:
			err = rr.Error()
		}
		f.mu.Lock()
		if err == nil {
			f.submitted++
		} else {
			f.rejected++
			if f.firstErr == nil {
				f.firstErr = err
			}
		}
		f.mu.Unlock()
		tx = nil
	}
	return nil
}

func (f *feeder) counts() (rejected, submitted int, exhausted bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected, f.submitted, f.exhausted
}

func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// report prints a progress line every second until stop closes.
func report(label string, o Options, n *node.Node, c *counter, f *feeder, start time.Time, stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		r := c.result()
		f.mu.Lock()
		submitted, rejected, firstErr := f.submitted, f.rejected, f.firstErr
		f.mu.Unlock()
		el := time.Since(start)
		line := fmt.Sprintf("%s: %4.1fs height %d blocks %d committed %d (%.0f/s) submitted %d mempool %d",
			label, el.Seconds(), n.Height(), r.Blocks, r.Committed, float64(r.Committed)/el.Seconds(), submitted, f.mp.Size())
		if r.Failed > 0 || rejected > 0 {
			line += fmt.Sprintf(" failed %d rejected %d (first: %v)", r.Failed, rejected, firstErr)
		}
		fmt.Fprintln(o.Progress, line)
	}
}
