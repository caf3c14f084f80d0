package contracts

import (
	"context"

	"github.com/phala-go/phala/vm"
)

// VM is the contract VM as the module sees it. The runtime builds it
// (package engine: a vm.Engine with its compile cache on disk), so the
// module itself does no I/O. Load is called with code whose hash the
// module has verified; the same code may be loaded more than once.
type VM interface {
	Load(ctx context.Context, code []byte) (Program, error)
}

// Program is loaded code, ready to instantiate.
type Program interface {
	NewInstance(env vm.Env) Instance
}

// Instance is one contract's running code (vm.Instance): calls are
// serialised, and the command reactor is reset at the first command of
// each block, so gas is a function of the block alone.
type Instance interface {
	Call(ctx context.Context, c vm.Call) (vm.Result, error)
	Close(ctx context.Context) error
}
