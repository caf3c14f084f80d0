package store

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// ErrDamaged is wrapped by errors about an application store whose data
// cannot be trusted: unreadable files or state that breaks an invariant.
var ErrDamaged = errors.New("application state store is damaged")

// DamagedError names the store and the remedy; it is often the last line a
// stopped node prints, so it says what to do.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("application state store %s is damaged: %s; stop the node and restore its data directory "+
		"from a backup, or resync it from peers (move the data directory aside and start again)", e.Path, oneLine(e.Err))
}

func (e *DamagedError) Unwrap() []error { return []error{ErrDamaged, e.Err} }

// Damaged wraps err as damage to this store.
func (s *Store) Damaged(err error) error { return &DamagedError{Path: s.dir, Err: err} }

// exitOnDamage ends the process for damage pebble reports through its fatal
// hook, where no error can be returned; one line instead of a stack dump.
// A variable so tests can watch it.
var exitOnDamage = func(err error) {
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
	os.Exit(1)
}

// damaged marks read errors that come from damaged data.
func (s *Store) damaged(err error) error {
	if pebble.IsCorruptionError(err) || errors.Is(err, pebble.ErrCorruption) {
		return s.Damaged(err)
	}
	return err
}

// damageListener keeps pebble from ending the process when it meets a
// damaged file (its default DataCorruption hook calls Fatalf): the read
// that met it returns the corruption error, which reaches the caller as a
// DamagedError naming this store.
func damageListener() *pebble.EventListener {
	return &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}}
}

// brief drops the verbose (%+v) form from a pebble format: with
// cockroachdb errors it prints stack traces, and the operator needs one line.
func brief(format string) string { return strings.ReplaceAll(format, "%+v", "%v") }

// oneLine is the first line of err's message: pebble appends detail lines
// that mean nothing to an operator.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
