package node

import (
	"fmt"
	"os"

	dbm "github.com/cometbft/cometbft-db"
)

// exitOnDamage ends the process for damage found where no error can be
// returned (pebble's fatal hook). A variable so tests can watch it.
var exitOnDamage = func(err error) {
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
	os.Exit(1)
}

// guardDB reports damaged reads. CometBFT panics on a store error and its
// RPC server turns that panic into an empty answer, so without this a
// damaged block store serves null blocks and nothing is logged.
type guardDB struct {
	dbm.DB
	store, path string
	report      func(error)
}

func (g *guardDB) check(err error) error {
	if isCorruption(err) && g.report != nil {
		g.report(&CorruptionError{Store: storeName(g.store), Path: g.path, Err: err})
	}
	return err
}

func (g *guardDB) Get(key []byte) ([]byte, error) {
	v, err := g.DB.Get(key)
	return v, g.check(err)
}

func (g *guardDB) Has(key []byte) (bool, error) {
	ok, err := g.DB.Has(key)
	return ok, g.check(err)
}

func (g *guardDB) Iterator(start, end []byte) (dbm.Iterator, error) {
	it, err := g.DB.Iterator(start, end)
	if err != nil {
		return nil, g.check(err)
	}
	return guardIter{Iterator: it, g: g}, nil
}

func (g *guardDB) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	it, err := g.DB.ReverseIterator(start, end)
	if err != nil {
		return nil, g.check(err)
	}
	return guardIter{Iterator: it, g: g}, nil
}

// guardIter reports an iteration that stopped on damaged data.
type guardIter struct {
	dbm.Iterator
	g *guardDB
}

func (it guardIter) Error() error { return it.g.check(it.Iterator.Error()) }

// reportCorrupt passes the first damage report on; later ones add nothing
// the operator can act on.
func (s *stores) reportCorrupt(err error) {
	s.mu.Lock()
	f := s.onCorrupt
	s.onCorrupt = nil
	s.mu.Unlock()
	if f != nil {
		f(err)
	}
}
