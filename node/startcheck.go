package node

import (
	"fmt"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
)

// StartupChecker is an application that can verify its committed state
// before the node starts (an invariant over stored data, say). A failing
// check stops the start: running on damaged state would spread it.
type StartupChecker interface {
	CheckStartup() error
}

// checkBeforeStart runs the checks that must pass before CometBFT opens
// the home: CometBFT itself would regenerate a missing validator key and
// serve damaged blocks as empty ones.
func checkBeforeStart(home Home, c *cfg.Config, app abci.Application) error {
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
