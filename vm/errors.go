package vm

import "github.com/phala-go/phala/errs"

// Module "vm" is shared with vm/meter, which owns codes 100-199; the host
// owns 1-99. Out-of-gas and stack-overflow errors are meter.ErrOutOfGas and
// meter.ErrStackOverflow.
var (
	// ErrBadModule: the code is not a loadable contract module.
	ErrBadModule = errs.Register(errModule, 1, "invalid contract module")
	// ErrTrap: the contract trapped (unreachable, bad memory access, ...).
	ErrTrap = errs.Register(errModule, 2, "contract trapped")
	// ErrExit: the contract called proc_exit; a Go panic ends this way.
	ErrExit = errs.Register(errModule, 3, "contract exited")
	// ErrReverted: the contract reverted with a message.
	ErrReverted = errs.Register(errModule, 4, "contract reverted")
	// ErrNoEntry: the module lacks the entry point called.
	ErrNoEntry = errs.Register(errModule, 5, "entry point missing")
	// ErrMemory: a host call named memory outside the contract's memory.
	ErrMemory = errs.Register(errModule, 6, "memory access out of bounds")
	// ErrHostLimit: a host call exceeded a host limit (sizes, counts).
	ErrHostLimit = errs.Register(errModule, 7, "host limit exceeded")
	// ErrInit: the contract's _initialize failed.
	ErrInit = errs.Register(errModule, 8, "contract initialisation failed")
	// ErrStore: the host's store failed (not the contract's fault).
	ErrStore = errs.Register(errModule, 9, "contract store failed")
	// ErrClosed: the engine or instance is closed.
	ErrClosed = errs.Register(errModule, 10, "vm closed")
	// ErrKey: the host could not derive the contract's signing key.
	ErrKey = errs.Register(errModule, 11, "key derivation failed")
	// ErrBusy: every query reactor stayed busy until the call's context
	// ended.
	ErrBusy = errs.Register(errModule, 12, "no query reactor free")
	// ErrCommandOnly: a query or _initialize called a host function only
	// commands may use (pay, send).
	ErrCommandOnly = errs.Register(errModule, 13, "host function is command-only")
	// ErrOverdrawn: the contract paid more than its balance.
	ErrOverdrawn = errs.Register(errModule, 14, "contract paying more than it holds")
	// ErrUnknownContract: a Peers implementation's answer for a contract it
	// cannot call (unknown, not running, or outside the caller's reach).
	ErrUnknownContract = errs.Register(errModule, 15, "no such contract")
	// ErrCallDepth: a contract-to-contract call beyond the depth bound, or
	// to a contract already in the chain of calls.
	ErrCallDepth = errs.Register(errModule, 16, "contract call too deep")
)

const errModule = "vm"
