package store

import (
	"errors"
	"fmt"
	"os"

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
	return fmt.Sprintf("application state store %s is damaged: %v; stop the node and restore its data directory "+
		"from a backup, or resync it from peers (move the data directory aside and start again)", e.Path, e.Err)
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
	if errors.Is(err, pebble.ErrCorruption) {
		return s.Damaged(err)
	}
	return err
}
