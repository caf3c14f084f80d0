package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/node"
)

// AppTime is where the application spent the window, measured around its
// ABCI calls. The node's local client runs one call at a time, so Busy close
// to the window means the application, not consensus, set the pace.
// PreCheckTx runs outside that lock (see node.PreChecker), so it is not in
// Busy.
type AppTime struct {
	PreCheckTx    time.Duration `json:"pre_check_tx_ns"`
	CheckTx       time.Duration `json:"check_tx_ns"`
	Recheck       time.Duration `json:"recheck_ns"`
	FinalizeBlock time.Duration `json:"finalize_block_ns"`
	Commit        time.Duration `json:"commit_ns"`
	CheckTxs      int           `json:"check_txs"`
	Rechecks      int           `json:"rechecks"`
}

// Busy is the total time spent in the application.
func (t AppTime) Busy() time.Duration { return t.CheckTx + t.Recheck + t.FinalizeBlock + t.Commit }

func (t AppTime) sub(u AppTime) AppTime {
	return AppTime{
		PreCheckTx: t.PreCheckTx - u.PreCheckTx, CheckTx: t.CheckTx - u.CheckTx, Recheck: t.Recheck - u.Recheck,
		FinalizeBlock: t.FinalizeBlock - u.FinalizeBlock, Commit: t.Commit - u.Commit,
		CheckTxs: t.CheckTxs - u.CheckTxs, Rechecks: t.Rechecks - u.Rechecks,
	}
}

// timedApp wraps an application to measure its ABCI calls; both
// applications run wrapped, so the wrapper's small cost is the same.
type timedApp struct {
	abci.Application

	mu sync.Mutex
	t  AppTime
}

func (a *timedApp) times() AppTime {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.t
}

var _ node.PreChecker = (*timedApp)(nil)

// PreCheckTx forwards to the application if it has a pre-check.
func (a *timedApp) PreCheckTx(ctx context.Context, tx []byte) {
	pre, ok := a.Application.(node.PreChecker)
	if !ok {
		return
	}
	start := time.Now()
	pre.PreCheckTx(ctx, tx)
	d := time.Since(start)
	a.mu.Lock()
	a.t.PreCheckTx += d
	a.mu.Unlock()
}

func (a *timedApp) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	start := time.Now()
	res, err := a.Application.CheckTx(ctx, req)
	d := time.Since(start)
	a.mu.Lock()
	if req.Type == abci.CHECK_TX_TYPE_RECHECK {
		a.t.Recheck += d
		a.t.Rechecks++
	} else {
		a.t.CheckTx += d
		a.t.CheckTxs++
	}
	a.mu.Unlock()
	return res, err
}

func (a *timedApp) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	start := time.Now()
	res, err := a.Application.FinalizeBlock(ctx, req)
	a.mu.Lock()
	a.t.FinalizeBlock += time.Since(start)
	a.mu.Unlock()
	return res, err
}

func (a *timedApp) Commit(ctx context.Context, req *abci.CommitRequest) (*abci.CommitResponse, error) {
	start := time.Now()
	res, err := a.Application.Commit(ctx, req)
	a.mu.Lock()
	a.t.Commit += time.Since(start)
	a.mu.Unlock()
	return res, err
}

// String breaks the time down per call, with the mean per transaction.
func (t AppTime) String() string {
	per := func(d time.Duration, n int) time.Duration {
		if n == 0 {
			return 0
		}
		return (d / time.Duration(n)).Round(100 * time.Nanosecond)
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("PreCheckTx %s (%s each, outside the lock), CheckTx %s (%d, %s each), recheck %s (%d, %s each), FinalizeBlock %s, Commit %s",
		r(t.PreCheckTx), per(t.PreCheckTx, t.CheckTxs), r(t.CheckTx), t.CheckTxs, per(t.CheckTx, t.CheckTxs), r(t.Recheck), t.Rechecks, per(t.Recheck, t.Rechecks),
		r(t.FinalizeBlock), r(t.Commit))
}
