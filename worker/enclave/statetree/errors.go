package statetree

import (
	"errors"

	"github.com/phala-go/phala/errs"
)

// Module is the errs module of the tree's errors.
const Module = "statetree"

// Errors of the tree. Codes are stable.
var (
	// ErrTampered: a page does not authenticate under its id (edited,
	// swapped with another page, rolled back to an older version) or
	// does not fit where its parent names it.
	ErrTampered = errs.Register(Module, 1, "contract state page does not authenticate")
	// ErrMissing: a page the tree reaches is not in the store (deleted, or
	// the state directory is older than the root).
	ErrMissing = errs.Register(Module, 2, "contract state page missing")
	// ErrStore: the page store failed (I/O).
	ErrStore = errs.Register(Module, 3, "contract state store failed")
	// ErrReadOnly: a write on a snapshot.
	ErrReadOnly = errs.Register(Module, 4, "contract state snapshot is read-only")
	// ErrUsage: a call the tree cannot honour in its state (a sweep
	// with uncommitted changes, a snapshot before the first commit).
	ErrUsage = errs.Register(Module, 5, "contract state tree misused")
)

// ErrNotFound is what a PageStore's Get returns (wrapped or not) for an id
// it does not hold.
var ErrNotFound = errors.New("no such page")

// PageStore keeps pages as opaque blobs by id. Get may be called from many
// goroutines at once; Put, Delete and List come from the tree's one
// writer, never concurrently with each other.
type PageStore interface {
	// Get returns the blob put under id, or an error wrapping ErrNotFound.
	Get(id PageID) ([]byte, error)
	// Put stores blob under id, replacing any blob there, so that a crash
	// leaves either the old blob or the new one. fresh reports that no
	// blob was stored under id before.
	Put(id PageID, blob []byte) (fresh bool, err error)
	// Delete removes id's blob; deleting an absent id is not an error.
	Delete(id PageID) error
	// List calls fn with the id of every page stored, in any order.
	List(fn func(PageID)) error
}
