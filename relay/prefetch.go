package relay

import (
	"context"

	"github.com/phala-go/phala/relaywire"
)

// prefetch builds the batch after from in the background, while the
// runtime verifies the one before it: fetching and verifying then overlap
// during a catch-up.
type prefetch struct {
	from   int64
	cancel context.CancelFunc
	done   chan struct{}
	b      relaywire.Batch
	err    error
}

func (r *Relay) startPrefetch(ctx context.Context, from, latest int64) *prefetch {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetch{from: from, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.b, p.err = r.cfg.Source.Batch(ctx, from, latest)
	}()
	return p
}

// result waits for the batch.
func (p *prefetch) result() (relaywire.Batch, error) {
	<-p.done
	p.cancel()
	return p.b, p.err
}

// stop abandons the batch and waits for its goroutine.
func (p *prefetch) stop() {
	if p != nil {
		p.cancel()
		<-p.done
	}
}

// batchQueue hands out the batches of one catch-up, each prefetched while the
// previous one is fed.
type batchQueue struct {
	r      *Relay
	latest int64
	next   *prefetch
}

// batch returns the batch after verified and starts building the one after
// it, on the guess that the runtime will take this one whole.
func (b *batchQueue) batch(ctx context.Context, verified int64) (relaywire.Batch, error) {
	var batch relaywire.Batch
	var err error
	if b.next != nil && b.next.from == verified {
		batch, err = b.next.result()
	} else {
		b.next.stop()
		batch, err = b.r.cfg.Source.Batch(ctx, verified, b.latest)
	}
	b.next = nil
	if err != nil {
		return batch, err
	}
	if end := verified + int64(len(batch.Blocks)); end < b.latest {
		b.next = b.r.startPrefetch(ctx, end, b.latest)
	}
	return batch, nil
}

// close stops a prefetch still running.
func (b *batchQueue) close() { b.next.stop() }
