package envelope

import "github.com/phala-go/phala/errs"

// Module is the errs module of envelope errors.
const Module = "envelope"

// Error kinds. Codes are stable: only add.
var (
	// ErrMalformed: the bytes are not a well-formed envelope.
	ErrMalformed = errs.Register(Module, 1, "malformed envelope")
	// ErrUnknownSuite: the envelope or key names a suite this code does not know.
	ErrUnknownSuite = errs.Register(Module, 2, "unknown envelope suite")
	// ErrTooLarge: the envelope or plaintext exceeds the size bounds.
	ErrTooLarge = errs.Register(Module, 3, "envelope too large")
	// ErrDecrypt: wrong recipient, chain, purpose or associated data, or
	// tampered bytes. HPKE cannot tell these apart, by design.
	ErrDecrypt = errs.Register(Module, 4, "envelope does not open")
	// ErrBadKey: a key is unusable or of another suite than the envelope.
	ErrBadKey = errs.Register(Module, 5, "unusable envelope key")
)

// ErrPurpose: the zero Purpose was used instead of a registered one.
var ErrPurpose = errs.Register(Module, 6, "unregistered envelope purpose")
