package runtime

import "github.com/phala-go/phala/errs"

// Module is the errs module of the runtime's errors.
const Module = "runtime"

// Errors of the runtime. Codes are stable.
var (
	// ErrGenesis: the configured genesis cannot start a runtime.
	ErrGenesis = errs.Register(Module, 1, "unusable genesis")
	// ErrNoAnchor: no header verified yet, so no block to anchor a quote.
	ErrNoAnchor = errs.Register(Module, 2, "no verified block yet")
	// ErrBadRequest: a request the runtime cannot act on.
	ErrBadRequest = errs.Register(Module, 3, "bad request")
	// ErrPlatform: the TEE platform failed (quote, seal).
	ErrPlatform = errs.Register(Module, 4, "TEE platform failure")
	// ErrClosed: the runtime was shut down.
	ErrClosed = errs.Register(Module, 5, "runtime closed")
	// ErrKeys: the node keys could not be loaded or created.
	ErrKeys = errs.Register(Module, 6, "node keys unavailable")
	// ErrKeystore: the sealed keystore cannot be read or written.
	ErrKeystore = errs.Register(Module, 7, "keystore unavailable")
	// ErrNoKey: the runtime does not hold the key asked for.
	ErrNoKey = errs.Register(Module, 8, "key not held")
)
