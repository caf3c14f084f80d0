package enclave

import (
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/worker/enclave/keystore"
)

// Module is the errs module of the enclave's errors. It keeps the name the
// package had before it was split into modules, so codes stay stable.
const Module = "runtime"

// Errors of the enclave. Codes are stable.
var (
	// ErrGenesis: the configured genesis cannot start an enclave.
	ErrGenesis = errs.Register(Module, 1, "unusable genesis")
	// ErrNoAnchor: no header verified yet, so no block to anchor a quote.
	ErrNoAnchor = errs.Register(Module, 2, "no verified block yet")
	// ErrBadRequest: a request the enclave cannot act on.
	ErrBadRequest = errs.Register(Module, 3, "bad request")
	// ErrPlatform: the TEE platform failed (quote, seal).
	ErrPlatform = errs.Register(Module, 4, "TEE platform failure")
	// ErrClosed: the enclave was shut down.
	ErrClosed = errs.Register(Module, 5, "runtime closed")
	// ErrKeys: the node keys could not be loaded or created.
	ErrKeys = errs.Register(Module, 6, "node keys unavailable")
	// ErrKeystore (code 7): the sealed keystore cannot be read or written.
	ErrKeystore = keystore.ErrKeystore
	// ErrNoKey: the enclave does not hold the key asked for.
	ErrNoKey = errs.Register(Module, 8, "key not held")
	// ErrModules: the modules do not fit together (two owners of a topic).
	ErrModules = errs.Register(Module, 9, "enclave modules conflict")
	// ErrOperator: evidence asked for an operator other than the one the
	// runtime is pinned to, or the pin cannot be read or written.
	ErrOperator = errs.Register(Module, 10, "not this runtime's operator")
	// ErrNoOperator: no operator pinned yet, so no evidence can be given.
	ErrNoOperator = errs.Register(Module, 11, "no operator pinned")
	// ErrScore: the sealed performance score cannot be read or written,
	// or the benchmark failed.
	ErrScore = errs.Register(Module, 12, "performance score unavailable")
)
