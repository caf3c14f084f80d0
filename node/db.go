package node

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// stores opens CometBFT's databases and remembers them. CometBFT closes only
// some of its stores on stop (not the tx/block indexer) and none when NewNode
// fails, and pebble holds a file lock per store, so without this the same
// home could not be started again in the same process.
type stores struct {
	logger cmtlog.Logger
	// onCorrupt hears of the first damaged read of any store; nil: nobody.
	onCorrupt func(error)
	mu        sync.Mutex
	dbs       []*onceDB
}

// open is a cfg.DBProvider. It gives pebble our logger because pebble's
// default one prints to stderr, mixing with the CLI's own output.
func (s *stores) open(ctx *cfg.DBContext) (dbm.DB, error) {
	var db dbm.DB
	var err error
	if dbm.BackendType(ctx.Config.DBBackend) == dbm.PebbleDBBackend {
		opts := &pebble.Options{Logger: pebbleLogger{l: s.logger.With("module", "pebble", "db", ctx.ID), store: storeName(ctx.ID), path: dbPath(ctx)}}
		db, err = dbm.NewPebbleDBWithOpts(ctx.ID, ctx.Config.DBDir(), opts)
	} else {
		db, err = cfg.DefaultDBProvider(ctx)
	}
	if err != nil {
		return nil, err
	}
	od := &onceDB{DB: &guardDB{DB: db, store: ctx.ID, path: dbPath(ctx), report: s.reportCorrupt}}
	s.mu.Lock()
	s.dbs = append(s.dbs, od)
	s.mu.Unlock()
	return od, nil
}

// dbPath is where CometBFT keeps the store of ctx (cometbft-db adds ".db").
func dbPath(ctx *cfg.DBContext) string { return filepath.Join(ctx.Config.DBDir(), ctx.ID+".db") }

// closeAll closes every store not yet closed by CometBFT.
func (s *stores) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, db := range s.dbs {
		_ = db.Close()
	}
}

// pebbleLogger adapts a CometBFT logger to pebble's Logger.
type pebbleLogger struct {
	l           cmtlog.Logger
	store, path string
}

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Info(fmt.Sprintf(format, args...)) }

// Fatalf is only called when pebble finds its store in a state it cannot
// continue from (a damaged file, a broken invariant). Pebble expects it not
// to return; we end the process with one message naming the store, instead
// of the default logger's stack dump.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	err := &CorruptionError{Store: p.store, Path: p.path, Err: fmt.Errorf(strings.ReplaceAll(format, "%+v", "%v"), args...)}
	p.l.Error(err.Error())
	exitOnDamage(err)
}
