package meter

import "github.com/phala-go/phala/errs"

// Module "vm" is shared with package vm; the meter owns codes 100-199 so the
// two packages never register the same code.
const errModule = "vm"

var (
	// ErrOutOfGas is the error the host returns when a call trapped with the
	// OutOfGasGlobal flag set.
	ErrOutOfGas = errs.Register(errModule, 100, "out of gas")
	// ErrStackOverflow is the error the host returns when a call trapped with
	// the StackOverflowGlobal flag set.
	ErrStackOverflow = errs.Register(errModule, 101, "call stack too deep")
	// ErrMalformed: the bytes are not a well-formed WebAssembly module.
	ErrMalformed = errs.Register(errModule, 102, "malformed wasm module")
	// ErrUnsupported: the module uses a feature contracts may not use.
	ErrUnsupported = errs.Register(errModule, 103, "unsupported wasm feature")
	// ErrImport: the module imports something outside the host ABI.
	ErrImport = errs.Register(errModule, 104, "import not allowed")
	// ErrLimit: the module exceeds a size limit.
	ErrLimit = errs.Register(errModule, 105, "module exceeds limit")
	// ErrCosts: the cost table or limits given to Instrument are unusable.
	ErrCosts = errs.Register(errModule, 106, "invalid meter configuration")
)
