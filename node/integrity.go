package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
)

// ErrCorrupt is wrapped by every error about a damaged store, so callers can
// tell "restore or resync" apart from a configuration mistake.
var ErrCorrupt = errors.New("store is damaged")

// CorruptionError names the damaged store and what an operator does about
// it. The remedy is part of the message because this error ends the process
// and is often the only line an operator sees.
type CorruptionError struct {
	Store string // "CometBFT block store", ...
	Path  string
	Err   error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("%s %s is damaged: %s; stop the node and restore its data directory from a backup, "+
		"or resync it from peers (move the data directory aside and start again)", e.Store, e.Path, oneLine(e.Err))
}

func (e *CorruptionError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// oneLine is the first line of err's message: pebble may append detail
// lines that mean nothing to an operator.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// isCorruption reports whether a store error means damaged data rather than
// a passing condition: pebble marks checksum and format failures.
func isCorruption(err error) bool {
	return err != nil && errors.Is(err, pebble.ErrCorruption)
}

// ErrValidatorKeyMissing is wrapped when the validator key is gone from a
// home that has already taken part in consensus.
var ErrValidatorKeyMissing = errors.New("validator key missing")

// checkValidatorKey refuses a home whose validator key was removed after it
// made or stored blocks: CometBFT would silently create a new key, which is
// not in the validator set, and a one-validator chain halts.
func checkValidatorKey(home Home, c *cfg.Config) error {
	if isFile(c.PrivValidatorKeyFile()) || !hasChainData(c) {
		return nil
	}
	return fmt.Errorf("%w: %s is missing but %s holds chain data; restore priv_validator_key.json "+
		"(and priv_validator_state.json) from your backup of this validator before starting: a new key "+
		"is not in the validator set", ErrValidatorKeyMissing, c.PrivValidatorKeyFile(), home.DataDir())
}

// hasChainData reports whether the home has stored blocks or signed at a
// height: either means it has a validator identity to lose.
func hasChainData(c *cfg.Config) bool {
	if signedHeight(c.PrivValidatorStateFile()) > 0 {
		return true
	}
	entries, err := os.ReadDir(filepath.Join(c.DBDir(), "blockstore.db"))
	return err == nil && len(entries) > 0
}

// signedHeight is the last height in the sign state; 0 if unreadable.
func signedHeight(stateFile string) int64 {
	b, err := os.ReadFile(stateFile)
	if err != nil {
		return 0
	}
	var st struct {
		Height json.Number `json:"height"`
	}
	if json.Unmarshal(b, &st) != nil {
		return 0
	}
	h, _ := st.Height.Int64()
	return h
}

// BlockStoreSummary is what the block store check saw.
type BlockStoreSummary struct {
	Base        int64 `json:"base"`
	Height      int64 `json:"height"`
	StateHeight int64 `json:"state_height"`
}

// checkBlockStore opens CometBFT's block and state stores and verifies the
// first and last stored blocks against their metas, the last seen commit
// and the consensus state. It reads a handful of keys, not the whole store,
// so it is cheap enough for every start; damage elsewhere is caught when it
// is read (see guardDB) or by a full scan.
func checkBlockStore(c *cfg.Config, fullScan bool) (BlockStoreSummary, error) {
	var sum BlockStoreSummary
	dbs := &stores{logger: cmtlog.NewNopLogger()}
	defer dbs.closeAll()
	blockDB, err := openChecked(dbs, c, "blockstore")
	if err != nil {
		return sum, err
	}
	stateDB, err := openChecked(dbs, c, "state")
	if err != nil {
		return sum, err
	}
	if fullScan {
		for _, s := range []struct {
			id string
			db dbm.DB
		}{{"blockstore", blockDB}, {"state", stateDB}} {
			if err := scanAll(s.db); err != nil {
				return sum, corruptErr(c, s.id, err)
			}
		}
	}
	err = catch("reading the block store", func() error {
		var err error
		sum, err = verifyBlocks(c, blockDB, stateDB)
		return err
	})
	if err != nil && !errors.Is(err, ErrCorrupt) {
		// Panics from CometBFT's store are undecodable or unreadable data.
		err = corruptErr(c, "blockstore", err)
	}
	return sum, err
}

func openChecked(dbs *stores, c *cfg.Config, id string) (dbm.DB, error) {
	db, err := dbs.open(&cfg.DBContext{ID: id, Config: c})
	if err != nil {
		return nil, corruptErr(c, id, err)
	}
	return db, nil
}

func corruptErr(c *cfg.Config, id string, err error) error {
	return &CorruptionError{Store: storeName(id), Path: dbPath(&cfg.DBContext{ID: id, Config: c}), Err: err}
}

// storeName is how messages name CometBFT's store with database id id.
func storeName(id string) string {
	switch id {
	case "blockstore":
		return "CometBFT block store"
	case "state":
		return "CometBFT state store"
	case "tx_index":
		return "CometBFT transaction index"
	}
	return "CometBFT " + id + " store"
}

// scanAll reads every entry, which makes pebble verify every block's
// checksum.
func scanAll(db dbm.DB) error {
	it, err := db.Iterator(nil, nil)
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		_ = it.Value()
	}
	return it.Error()
}

func verifyBlocks(c *cfg.Config, blockDB, stateDB dbm.DB) (BlockStoreSummary, error) {
	bs := store.NewBlockStore(blockDB, store.WithDBKeyLayout(c.Storage.ExperimentalKeyLayout))
	st, err := sm.NewStore(stateDB, sm.StoreOptions{}).Load()
	if err != nil {
		return BlockStoreSummary{}, corruptErr(c, "state", err)
	}
	sum := BlockStoreSummary{Base: bs.Base(), Height: bs.Height(), StateHeight: st.LastBlockHeight}
	if sum.Height == 0 {
		if sum.StateHeight > 0 {
			return sum, corruptErr(c, "blockstore", fmt.Errorf("no blocks stored but the consensus state is at height %d", sum.StateHeight))
		}
		return sum, nil
	}
	// CometBFT saves a block before applying it, so the store may be one ahead.
	if sum.StateHeight > sum.Height || sum.Height > sum.StateHeight+1 {
		return sum, corruptErr(c, "blockstore", fmt.Errorf("last block %d does not match the consensus state at height %d", sum.Height, sum.StateHeight))
	}
	for _, h := range []int64{sum.Base, sum.Height} {
		if err := verifyBlock(bs, h); err != nil {
			return sum, corruptErr(c, "blockstore", err)
		}
	}
	if sum.StateHeight == sum.Height {
		meta := bs.LoadBlockMeta(sum.Height)
		if !bytes.Equal(meta.BlockID.Hash, st.LastBlockID.Hash) {
			return sum, corruptErr(c, "blockstore", fmt.Errorf("block %d has hash %X, the consensus state expects %X", sum.Height, meta.BlockID.Hash, st.LastBlockID.Hash))
		}
	}
	return sum, nil
}

// verifyBlock checks that block h's parts hash to its meta's hash; the last
// block must also have the commit that finalised it.
func verifyBlock(bs *store.BlockStore, h int64) error {
	block, meta := bs.LoadBlock(h)
	if meta == nil || block == nil {
		return fmt.Errorf("block %d is missing", h)
	}
	if got := block.Hash(); !bytes.Equal(got, meta.BlockID.Hash) {
		return fmt.Errorf("block %d hashes to %X, its meta says %X", h, got, meta.BlockID.Hash)
	}
	if h != bs.Height() {
		return nil
	}
	commit := bs.LoadSeenCommit(h)
	if commit == nil {
		return fmt.Errorf("block %d has no commit", h)
	}
	if !bytes.Equal(commit.BlockID.Hash, meta.BlockID.Hash) {
		return fmt.Errorf("the commit of block %d is for %X, the block is %X", h, commit.BlockID.Hash, meta.BlockID.Hash)
	}
	return nil
}
