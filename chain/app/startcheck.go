package app

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/mq"
)

// CheckStartup verifies the committed state before the node starts
// (node.StartupChecker): the state tree's root must be the one the last
// app hash commits to, and the recorded supply must equal the sum of the
// balances. A mismatch means the store was changed outside consensus or is
// damaged; running on it would commit a state no other node has.
func (a *App) CheckStartup() error {
	if err := a.checkStateRoot(); err != nil {
		return a.store.Damaged(err)
	}
	if err := bank.CheckSupply(a.store); err != nil {
		return a.store.Damaged(err)
	}
	return nil
}

// checkStateRoot recomputes the last app hash from the tree's root. It
// needs the app hash before and the block's messages, which a node
// restored from a snapshot lacks for its first height: then there is
// nothing to recompute from, and the restore itself checked the root.
func (a *App) checkStateRoot() error {
	if a.last.AppHash == nil {
		return nil // nothing committed yet
	}
	step, err := a.appHashStep(a.last.Height)
	if errors.Is(err, module.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	got := mq.NextAppHash(a.chainID, step.PrevAppHash, a.store.StateRoot(), step.MessagesRoot)
	if !bytes.Equal(got, a.last.AppHash) {
		return fmt.Errorf("the state tree's root %X does not give the committed app hash %X of height %d", a.store.StateRoot(), a.last.AppHash, a.last.Height)
	}
	return nil
}
