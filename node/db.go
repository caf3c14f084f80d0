package node

import (
	"fmt"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// dbProvider opens CometBFT's stores like cfg.DefaultDBProvider but gives
// pebble our logger: pebble's default one prints to stderr, which would mix
// with the CLI's own output.
func dbProvider(logger cmtlog.Logger) cfg.DBProvider {
	return func(ctx *cfg.DBContext) (dbm.DB, error) {
		if dbm.BackendType(ctx.Config.DBBackend) != dbm.PebbleDBBackend {
			return cfg.DefaultDBProvider(ctx)
		}
		opts := &pebble.Options{Logger: pebbleLogger{logger.With("module", "pebble", "db", ctx.ID)}}
		return dbm.NewPebbleDBWithOpts(ctx.ID, ctx.Config.DBDir(), opts)
	}
}

// pebbleLogger adapts a CometBFT logger to pebble's Logger.
type pebbleLogger struct{ l cmtlog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Info(fmt.Sprintf(format, args...)) }

// Fatalf is only called on unrecoverable store corruption; pebble expects it
// not to return, so after logging we panic as the default logger would exit.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("pebble: " + msg)
}
