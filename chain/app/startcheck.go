package app

import (
	"github.com/phala-go/phala/chain/bank"
)

// CheckStartup verifies the committed state before the node starts
// (node.StartupChecker): the recorded supply must equal the sum of the
// balances. A mismatch means the store was changed outside consensus or is
// damaged; running on it would commit a state no other node has.
func (a *App) CheckStartup() error {
	if err := bank.CheckSupply(a.store); err != nil {
		return a.store.Damaged(err)
	}
	return nil
}
