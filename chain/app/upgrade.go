package app

import (
	"fmt"
	"sync"

	"github.com/phala-go/phala/chain/gov"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
)

// Software upgrades. Governance schedules a plan (gov.schedule_upgrade):
// a name and the height of the first block the new release runs. A binary
// knows the upgrades it was built for (WithUpgrades). Block Height runs
// only on a binary that knows the plan's name: it applies the upgrade at
// the start of that block, before its transactions. A binary that does
// not know it stops after committing block Height-1, between blocks: it
// closes Halted, refuses to vote for block Height, refuses to execute it,
// and refuses to start again on that store, all with the same
// UpgradeNeededError. Installing the release that knows the plan and
// restarting resumes the chain at block Height.

// EventUpgradeApplied is the event of the block that applied an upgrade.
const EventUpgradeApplied = "gov_upgrade_applied"

// Upgrade is one software upgrade this binary knows: Apply runs on the
// state at the start of the plan's block, before its transactions (state
// migrations, new params). An Apply that fails stops the chain: every node
// of the release fails the same way, and nothing of the block is written.
type Upgrade struct {
	Name  string
	Apply func(ctx *module.Context) error
}

// KnownUpgrades are the upgrades this release applies, known to every
// application it opens. A release that changes the state machine adds its
// plan's name and migration here, and governance schedules that name.
// This release knows none: it can only stop at an upgrade.
func KnownUpgrades() []Upgrade { return nil }

// Option adjusts the application when it is opened.
type Option func(*App)

// WithUpgrades adds upgrades to KnownUpgrades: tests, and tools that
// build a release's successor.
func WithUpgrades(ups ...Upgrade) Option {
	return func(a *App) {
		for _, u := range ups {
			a.upgrades[u.Name] = u
		}
	}
}

// UpgradeNeededError is why a binary stops: the next block belongs to an
// upgrade it does not know.
type UpgradeNeededError struct {
	Plan govapi.Plan
}

func (e *UpgradeNeededError) Error() string {
	return fmt.Sprintf("upgrade %s scheduled by governance at height %d: this binary does not know it; "+
		"install the release that does (info: %s) and restart", e.Plan.Name, e.Plan.Height, orNone(e.Plan.Info))
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}

// halt is closed once the application must not run another block. Its
// reason is set before it is closed, so a reader woken by the close sees
// it.
type halt struct {
	once   sync.Once
	ch     chan struct{}
	mu     sync.Mutex
	reason error
}

func newHalt() *halt { return &halt{ch: make(chan struct{})} }

func (h *halt) stop(reason error) {
	h.once.Do(func() {
		h.mu.Lock()
		h.reason = reason
		h.mu.Unlock()
		close(h.ch)
	})
}

func (h *halt) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reason
}

// Halted is closed once the application has committed the last block this
// binary may run; HaltReason then says why. The node watches it, stops
// consensus and exits (node.Halter).
func (a *App) Halted() <-chan struct{} { return a.halt.ch }

// HaltReason is nil while the application may run the next block, and an
// *UpgradeNeededError once it may not.
func (a *App) HaltReason() error { return a.halt.err() }

// planned reads the upgrade plan from the committed store.
func (a *App) planned() (govapi.Plan, bool, error) { return gov.PlannedUpgrade(a.store) }

// unknownPlanAt returns the halt error if block height belongs to a plan
// this binary does not know.
func (a *App) unknownPlanAt(p govapi.Plan, ok bool, height int64) error {
	if !ok || p.Height != height {
		return nil
	}
	if _, known := a.upgrades[p.Name]; known {
		return nil
	}
	return &UpgradeNeededError{Plan: p}
}

// watchUpgrade runs after each commit and when the store is opened: it
// announces the plan and halts before a block this binary cannot run. It
// only reads, so it changes no app hash.
func (a *App) watchUpgrade() error {
	p, ok, err := a.planned()
	if err != nil {
		return err
	}
	a.announce(p, ok)
	if err := a.unknownPlanAt(p, ok, a.last.Height+1); err != nil {
		a.log.Error("stopping before the upgrade", "height", a.last.Height, "err", err)
		a.halt.stop(err)
	}
	return nil
}

// applyUpgrade runs, at the start of FinalizeBlock, the upgrade whose
// block this is: on a branch, so a failing Apply leaves nothing behind.
func (a *App) applyUpgrade(s *state.Overlay, blk module.Block) ([]module.Event, error) {
	p, ok, err := a.planned()
	if err != nil {
		return nil, err
	}
	if err := a.unknownPlanAt(p, ok, blk.Height); err != nil {
		a.halt.stop(err)
		return nil, err
	}
	if !ok || p.Height != blk.Height {
		return nil, nil
	}
	ctx := &module.Context{Block: blk, Store: s}
	err = ctx.Try(func(c *module.Context) error {
		if apply := a.upgrades[p.Name].Apply; apply != nil { // nil: nothing to migrate
			if err := apply(c); err != nil {
				return err
			}
		}
		gov.ClearUpgrade(c.Store)
		c.Emit(EventUpgradeApplied, module.A("name", p.Name), module.A("height", p.Height))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upgrade %s at height %d failed: %w", p.Name, p.Height, err)
	}
	a.log.Warn("upgrade applied", "name", p.Name, "height", p.Height)
	return ctx.Events(), nil
}

// announceAt are the distances, in blocks, at which a pending plan is
// logged again besides every announceEvery blocks.
var announceAt = map[int64]bool{10: true, 5: true, 1: true}

const announceEvery = 100

// announce logs a plan when it appears, changes or goes, and while it is
// pending every announceEvery blocks and announceAt blocks before it, so
// operators see it coming in the node's log.
func (a *App) announce(p govapi.Plan, ok bool) {
	prev := a.announced
	switch {
	case !ok && prev != nil:
		a.log.Warn("upgrade canceled", "name", prev.Name, "height", prev.Height, "blocks_left", prev.Height-a.last.Height)
		a.announced = nil
		return
	case !ok:
		return
	}
	dist := p.Height - a.last.Height
	_, known := a.upgrades[p.Name]
	switch {
	case prev == nil || *prev != p:
		a.log.Warn("upgrade scheduled", "name", p.Name, "height", p.Height, "blocks_left", dist, "known_to_this_binary", known, "info", p.Info)
		a.announced = &p
	case dist%announceEvery == 0 || announceAt[dist]:
		a.log.Warn("upgrade pending", "name", p.Name, "height", p.Height, "blocks_left", dist, "known_to_this_binary", known, "info", p.Info)
	}
}
