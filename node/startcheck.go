package node

import (
	"fmt"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
)

// StartupChecker is an application that can verify its committed state
// before the node starts (an invariant over stored data, say). A failing
// check stops the start: running on damaged state would spread it.
type StartupChecker interface {
	CheckStartup() error
}

// Halter is an application that may have to stop between blocks: after
// committing the last block it may run (a software upgrade it does not
// know comes next), it closes Halted and HaltReason says why. The node
// then stops consensus and Stop returns that reason; a node whose
// application has halted already refuses to start.
type Halter interface {
	Halted() <-chan struct{}
	HaltReason() error
}

// checkBeforeStart runs the checks that must pass before CometBFT opens
// the home: CometBFT itself would regenerate a missing validator key and
// serve damaged blocks as empty ones.
func checkBeforeStart(home Home, c *cfg.Config, app abci.Application) error {
	if h, ok := app.(Halter); ok {
		if err := h.HaltReason(); err != nil {
			return err
		}
	}
	if err := checkValidatorKey(home, c); err != nil {
		return err
	}
	if _, err := checkBlockStore(c, false); err != nil {
		return err
	}
	if sc, ok := app.(StartupChecker); ok {
		if err := sc.CheckStartup(); err != nil {
			return fmt.Errorf("application state check: %w", err)
		}
	}
	return nil
}

// damage records the first damaged read while the node runs and stops the
// node, so the process ends with that error rather than serving empty
// answers from a broken store.
type damage struct {
	mu   sync.Mutex
	err  error
	stop func()
}

func (d *damage) report(err error) {
	d.mu.Lock()
	first := d.err == nil
	if first {
		d.err = err
	}
	stop := d.stop
	d.mu.Unlock()
	if first && stop != nil {
		// Stop waits for goroutines that may be the one reading; never block them.
		go stop()
	}
}

func (d *damage) setStop(stop func()) {
	d.mu.Lock()
	d.stop = stop
	pending := d.err != nil
	d.mu.Unlock()
	if pending {
		go stop()
	}
}

func (d *damage) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// haltSettle bounds how long a halting node waits for CometBFT to finish
// recording the block the application just committed.
const haltSettle = 5 * time.Second

// haltWatch stops the node when its application halts and keeps the reason
// for Stop to return.
type haltWatch struct {
	mu     sync.Mutex
	reason error
}

// watch waits for app to halt or the node to quit. The application halts
// inside its Commit, before CometBFT has saved its own state for that
// block; CometBFT announces the block (NewBlockHeader) once it has, so
// the node stops after that announcement (bounded by haltSettle) and
// every store ends at the same height. It stops the node from its own
// goroutine: Stop waits for the ABCI call that announced the halt.
func (w *haltWatch) watch(app Halter, blocks <-chan int64, committed func() int64, quit <-chan struct{}, stop func()) {
	seen := int64(-1)
	for {
		select {
		case h := <-blocks:
			seen = h
			continue
		case <-app.Halted():
		case <-quit:
			return
		}
		break
	}
	w.mu.Lock()
	w.reason = app.HaltReason()
	w.mu.Unlock()
	target, timeout := committed(), time.After(haltSettle)
	for seen < target {
		select {
		case seen = <-blocks:
		case <-timeout:
			seen = target
		case <-quit:
			return
		}
	}
	stop()
}

func (w *haltWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason
}
