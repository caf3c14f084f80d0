package relay

import "github.com/phala-go/phala/errs"

// module is the errs module of the relay's own errors.
const module = "relay"

// Error kinds of the relay. Codes are stable: only add.
var (
	// ErrNodeAnswer is a node answer the relay cannot use: malformed,
	// for another height, or inconsistent with the headers around it.
	ErrNodeAnswer = errs.Register(module, 1, "unusable answer from the node")
	// ErrNothingNew is asked for a batch when the runtime is not behind.
	ErrNothingNew = errs.Register(module, 2, "no new blocks")
	// ErrWrongChain is a runtime or node of another chain.
	ErrWrongChain = errs.Register(module, 3, "runtime and node follow different chains")
	// ErrRuntimeAnswer is a runtime answer the relay cannot use.
	ErrRuntimeAnswer = errs.Register(module, 4, "unusable answer from the runtime")
	// ErrConfig is a relay set up without something it needs.
	ErrConfig = errs.Register(module, 5, "invalid relay configuration")
)
