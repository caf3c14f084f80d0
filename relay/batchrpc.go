package relay

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/phala-go/phala/cometrpc"
)

// DefaultRPCBatch is how many calls go in one JSON-RPC batch request:
// CometBFT's default limit (rpc.max_request_batch_size). Batching saves a
// round trip per call, which is most of the cost of a small query.
const DefaultRPCBatch = 10

// queueFunc makes call i and returns the check to run on its result once
// it has arrived.
type queueFunc func(i int) (req cometrpc.Request, check func() error, err error)

// rpcBatcher sends n calls in JSON-RPC batches, the batches in parallel.
type rpcBatcher struct {
	s   *Source
	per atomic.Int32 // calls per batch; 1 sends them one by one
}

func (b *rpcBatcher) run(ctx context.Context, n int, queue queueFunc) error {
	per := int(b.per.Load())
	err := parallel(ctx, b.s.workers, (n+per-1)/per, func(ctx context.Context, g int) error {
		return b.group(ctx, g*per, min(n, (g+1)*per), queue)
	})
	if errors.Is(err, errBatchRefused) {
		// The node allows smaller batches than ours: send one by one.
		b.per.Store(1)
		return b.run(ctx, n, queue)
	}
	return err
}

// errBatchRefused is a node refusing batches of our size.
var errBatchRefused = fmt.Errorf("node refused the batch size")

// group sends calls lo..hi-1 in one request and checks their results.
func (b *rpcBatcher) group(ctx context.Context, lo, hi int, queue queueFunc) error {
	reqs := make([]cometrpc.Request, 0, hi-lo)
	checks := make([]func() error, 0, hi-lo)
	for i := lo; i < hi; i++ {
		req, check, err := queue(i)
		if err != nil {
			return err
		}
		reqs, checks = append(reqs, req), append(checks, check)
	}
	if err := b.s.rpc.Do(ctx, reqs...); err != nil {
		if rpcErr, ok := errors.AsType[*cometrpc.RPCError](err); ok && len(reqs) > 1 && rpcErr.BatchTooLarge() {
			return errBatchRefused
		}
		return b.s.unreachable(err)
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}
