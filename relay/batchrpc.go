package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
)

// DefaultRPCBatch is how many calls go in one JSON-RPC batch request:
// CometBFT's default limit (rpc.max_request_batch_size). Batching saves a
// round trip per call, which is most of the cost of a small query.
const DefaultRPCBatch = 10

// caller is what both a direct and a batched RPC client offer; a batched
// call's result is filled in when its batch is sent.
type caller interface {
	ABCIQuery(ctx context.Context, path string, data cmtbytes.HexBytes) (*coretypes.ResultABCIQuery, error)
	BlockchainInfo(ctx context.Context, minHeight, maxHeight int64) (*coretypes.ResultBlockchainInfo, error)
}

// queueFunc queues call i on c and returns the check to run on its result
// once it has arrived.
type queueFunc func(ctx context.Context, c caller, i int) (check func() error, err error)

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

func (b *rpcBatcher) group(ctx context.Context, lo, hi int, queue queueFunc) error {
	var checks []func() error
	if hi-lo == 1 {
		check, err := queue(ctx, b.s.rpc, lo)
		if err != nil {
			return b.s.unreachable(err)
		}
		return check()
	}
	batch := b.s.rpc.NewBatch()
	for i := lo; i < hi; i++ {
		check, err := queue(ctx, batch, i)
		if err != nil {
			return b.s.unreachable(err)
		}
		checks = append(checks, check)
	}
	res, err := batch.Send(ctx)
	if err != nil {
		return b.s.unreachable(err)
	}
	if len(res) == 1 && hi-lo > 1 {
		// One answer to many calls is the node's error for the whole batch.
		if e, ok := res[0].(*rpctypes.RPCError); ok {
			if strings.Contains(e.Data, "exceeds maximum") {
				return errBatchRefused
			}
			return b.s.unreachable(e)
		}
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}
