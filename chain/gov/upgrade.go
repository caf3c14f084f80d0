package gov

import (
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
)

// upgradeMethods schedule and cancel a software upgrade.
func upgradeMethods() []module.Method { return nil }

// upgradeQuery answers the upgrade query; ok is false for other paths.
func (m Module) upgradeQuery(r state.IterReader, path string, data []byte) (any, bool, error) {
	return nil, false, nil
}
