package node

import (
	"context"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtsync "github.com/cometbft/cometbft/libs/sync"
	"github.com/cometbft/cometbft/proxy"
)

// PreChecker is an application whose CheckTx starts with work that reads no
// application state, such as verifying a signature. The node calls
// PreCheckTx for each new transaction before taking the lock that
// serialises all ABCI calls, so that work runs on another core while the
// application executes a block, and concurrently for concurrent
// submitters; CheckTx then runs under the lock as before.
//
// PreCheckTx must be safe to call concurrently with every ABCI method and
// with itself, and must not change CheckTx's answer, only its speed (by
// warming a cache, say): a node that never calls it behaves the same.
type PreChecker interface {
	PreCheckTx(ctx context.Context, tx []byte)
}

// clientCreator is CometBFT's local client creator (one mutex over every
// connection's calls) with the mempool connection calling PreCheckTx first
// when the application has it.
type clientCreator struct {
	mtx *cmtsync.Mutex
	app abci.Application
}

// newClientCreator is proxy.NewLocalClientCreator plus PreChecker support.
func newClientCreator(app abci.Application) proxy.ClientCreator {
	return &clientCreator{mtx: new(cmtsync.Mutex), app: app}
}

func (c *clientCreator) local() abcicli.Client { return abcicli.NewLocalClient(c.mtx, c.app) }

// NewABCIConsensusClient implements proxy.ClientCreator.
func (c *clientCreator) NewABCIConsensusClient() (abcicli.Client, error) { return c.local(), nil }

// NewABCIQueryClient implements proxy.ClientCreator.
func (c *clientCreator) NewABCIQueryClient() (abcicli.Client, error) { return c.local(), nil }

// NewABCISnapshotClient implements proxy.ClientCreator.
func (c *clientCreator) NewABCISnapshotClient() (abcicli.Client, error) { return c.local(), nil }

// NewABCIMempoolClient implements proxy.ClientCreator.
func (c *clientCreator) NewABCIMempoolClient() (abcicli.Client, error) {
	pre, ok := c.app.(PreChecker)
	if !ok {
		return c.local(), nil
	}
	return preCheckClient{Client: c.local(), pre: pre}, nil
}

// preCheckClient runs PreCheckTx outside the shared mutex for first-time
// checks; rechecks of mempool transactions skip it, their verdicts being
// cached already.
type preCheckClient struct {
	abcicli.Client
	pre PreChecker
}

func (c preCheckClient) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	c.preCheck(ctx, req)
	return c.Client.CheckTx(ctx, req)
}

func (c preCheckClient) CheckTxAsync(ctx context.Context, req *abci.CheckTxRequest) (*abcicli.ReqRes, error) {
	c.preCheck(ctx, req)
	return c.Client.CheckTxAsync(ctx, req)
}

func (c preCheckClient) preCheck(ctx context.Context, req *abci.CheckTxRequest) {
	if req.Type != abci.CHECK_TX_TYPE_RECHECK {
		c.pre.PreCheckTx(ctx, req.Tx)
	}
}
