// Package errs gives errors a module and a stable numeric code that survive
// the wire: the chain returns them in ABCI results (codespace, code, log) and
// clients rebuild the same error, so a script can match on module and code
// instead of parsing messages.
package errs

import (
	"errors"
	"fmt"
	"sync"
)

// Error is a registered error kind. Codes are stable once released: never
// renumber one, only add.
type Error struct {
	Module string
	Code   uint32
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s/%d: %s", e.Module, e.Code, e.Msg) }

// Is matches any error of the same module and code, so an error rebuilt from
// the wire matches the registered sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Module == e.Module && t.Code == e.Code
}

// Wrapf adds detail while keeping the kind: errors.Is(err, e) stays true.
func (e *Error) Wrapf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", e, fmt.Sprintf(format, args...))
}

var (
	mu       sync.Mutex
	registry = map[string]map[uint32]*Error{}
)

// Register declares an error kind at package init. Code 0 means success in
// ABCI and is reserved; a duplicate registration is a programming error.
func Register(module string, code uint32, msg string) *Error {
	if code == 0 {
		panic("errs: code 0 is reserved for success")
	}
	mu.Lock()
	defer mu.Unlock()
	codes := registry[module]
	if codes == nil {
		codes = map[uint32]*Error{}
		registry[module] = codes
	}
	if _, dup := codes[code]; dup {
		panic(fmt.Sprintf("errs: %s/%d registered twice", module, code))
	}
	e := &Error{Module: module, Code: code, Msg: msg}
	codes[code] = e
	return e
}

// Module and code for errors that are not registered kinds (bugs, I/O).
const internalModule = "internal"

// ErrInternal is the kind of every error that has none of its own.
var ErrInternal = Register(internalModule, 1, "internal error")

// Code returns the module and code of err, falling back to ErrInternal.
func Code(err error) (module string, code uint32) {
	var e *Error
	if errors.As(err, &e) {
		return e.Module, e.Code
	}
	return ErrInternal.Module, ErrInternal.Code
}

// FromWire rebuilds an error from its module, code and log message. Unknown
// kinds are kept as they came, so a newer server's codes still print well.
func FromWire(module string, code uint32, log string) error {
	if code == 0 {
		return nil
	}
	mu.Lock()
	kind := registry[module][code]
	mu.Unlock()
	if kind == nil {
		kind = &Error{Module: module, Code: code, Msg: "unknown error"}
	}
	return &wireError{kind: kind, log: log}
}

type wireError struct {
	kind *Error
	log  string
}

func (w *wireError) Error() string { return w.log }
func (w *wireError) Unwrap() error { return w.kind }
