// Package app is the consensus application: CometBFT's ABCI 2.0 interface
// over the chain modules, a Merkle (IAVL) state store committed once per
// block, and an app hash that chains the previous hash, the root of the
// whole state and the root of the block's message list for enclaves.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/compute"
	"github.com/phala-go/phala/chain/contracts"
	"github.com/phala-go/phala/chain/gov"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys"
	"github.com/phala-go/phala/chain/module"
	mqmodule "github.com/phala-go/phala/chain/mq"
	"github.com/phala-go/phala/chain/pools"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// AppVersion is the state machine's version, reported to CometBFT.
const AppVersion = 1

var (
	paramsKey  = state.NewKeyFormat(state.ModuleMeta, 0x02) // → Params
	chainIDKey = state.NewKeyFormat(state.ModuleMeta, 0x03) // → chain id
)

// App is the ABCI application. CometBFT's local client serialises all calls,
// so App needs no locks of its own.
type App struct {
	abci.BaseApplication

	chainID string
	store   *store.Store
	log     *slog.Logger
	modules []module.Module
	methods map[string]module.Method
	egress  module.EgressRoutes

	last    store.Meta
	params  Params
	check   *state.Overlay // the mempool's view: committed state plus queued txs
	pending *pendingBlock  // finalized, not yet committed
	sigs    *sigCache
	snap    snapshots // state sync: see snapshot.go

	upgrades  map[string]Upgrade // the upgrades this binary knows (upgrade.go)
	halt      *halt              // closed before a block this binary must not run
	announced *govapi.Plan       // the plan last logged
}

type pendingBlock struct {
	height    int64
	blockHash []byte
	time      time.Time
	appHash   []byte
	digest    mq.Block
}

var _ abci.Application = (*App)(nil)

// Modules lists the chain's modules in execution order.
func Modules() []module.Module { return ModulesWith(pools.Module{}) }

// ModulesWith is Modules with the stake pools compute pays and asks
// (compute does not import them; tests inject others, while the pools
// module stays in the list with its own state); the registry and the
// contracts module tell compute of deactivated nodes and of discrepancies.
func ModulesWith(stakePools compute.Pools) []module.Module {
	c := compute.Module{Pools: stakePools}
	governed := []module.Module{
		bank.Module{}, registry.Module{Deactivated: c.NodeDeactivated}, mqmodule.Module{}, keys.Module{},
		contracts.Module{Discrepancy: c.Discrepancy}, c, pools.Module{},
	}
	// Governance runs first at the end of a block, so what a passed
	// proposal changes (a policy, params) applies to the rest of that
	// block's end-of-block work.
	return append([]module.Module{gov.Module{Governed: governed}}, governed...)
}

// New opens the application over its store directory.
func New(chainID, dir string, log *slog.Logger, opts ...Option) (*App, error) {
	return newApp(chainID, dir, log, Modules(), opts)
}

// NewWithModules opens the application over a module list of its own:
// tests compose modules (ModulesWith and more); production uses New.
func NewWithModules(chainID, dir string, log *slog.Logger, mods []module.Module, opts ...Option) (*App, error) {
	return newApp(chainID, dir, log, mods, opts)
}

// newApp builds the application over a module list: Modules() in
// production, more in tests.
func newApp(chainID, dir string, log *slog.Logger, mods []module.Module, opts []Option) (*App, error) {
	a := &App{chainID: chainID, log: log, modules: mods, methods: map[string]module.Method{}, sigs: newSigCache(1 << 18),
		upgrades: map[string]Upgrade{}, halt: newHalt()}
	WithUpgrades(KnownUpgrades()...)(a)
	for _, o := range opts {
		o(a)
	}
	for _, m := range a.modules {
		for _, meth := range m.Methods() {
			if !strings.HasPrefix(meth.Name, m.Name()+".") {
				return nil, fmt.Errorf("method %q is not in module %q", meth.Name, m.Name())
			}
			a.methods[meth.Name] = meth
		}
	}
	routes, err := module.NewEgressRoutes(a.modules)
	if err != nil {
		return nil, err
	}
	a.egress = routes
	if a.store, err = store.Open(dir); err != nil {
		return nil, err
	}
	if err := a.load(); err != nil {
		a.store.Close()
		return nil, err
	}
	return a, nil
}

// load reads what the store says about the last commit.
func (a *App) load() error {
	var err error
	if a.last, err = a.store.Meta(); err != nil {
		return err
	}
	a.check = state.NewOverlay(a.store)
	if stored, err := a.store.Get(chainIDKey.Key()); err != nil {
		return err
	} else if stored != nil && string(stored) != a.chainID {
		return fmt.Errorf("state store belongs to chain %q, not %q", stored, a.chainID)
	}
	raw, err := a.store.Get(paramsKey.Key())
	if err != nil || raw == nil {
		return err
	}
	if err := codec.Unmarshal(raw, &a.params); err != nil {
		return err
	}
	return a.watchUpgrade()
}

// Close stops taking snapshots and closes the store.
func (a *App) Close() error {
	a.closeSnapshots()
	return a.store.Close()
}

// Store exposes the committed store for invariant checks.
func (a *App) Store() *store.Store { return a.store }

// Info tells CometBFT where the application is, so its handshake replays the
// blocks the application missed.
func (a *App) Info(context.Context, *abci.InfoRequest) (*abci.InfoResponse, error) {
	return &abci.InfoResponse{
		Data: "phala", Version: "1", AppVersion: AppVersion,
		LastBlockHeight: a.last.Height, LastBlockAppHash: a.last.AppHash,
	}, nil
}

// InitChain writes the genesis state and commits it as height 0. CometBFT
// calls it again after a crash before block 1 was committed: the genesis
// state, already committed, stands, and its app hash is answered again (the
// tree cannot write the same genesis twice: its node hashes include the
// version).
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	if req.ChainId != a.chainID {
		return nil, fmt.Errorf("genesis is for chain %q, application for %q", req.ChainId, a.chainID)
	}
	if a.last.AppHash != nil {
		if a.last.Height != 0 {
			return nil, fmt.Errorf("InitChain on a store that committed height %d", a.last.Height)
		}
		return &abci.InitChainResponse{AppHash: a.last.AppHash}, nil
	}
	g, err := ParseGenesis(req.AppStateBytes, a.moduleNames())
	if err != nil {
		return nil, err
	}
	s := state.NewOverlay(a.store)
	s.Set(chainIDKey.Key(), []byte(a.chainID))
	s.Set(paramsKey.Key(), codec.MustMarshal(g.Chain))
	ctx := &module.Context{Block: a.block(0, req.Time), Store: s}
	for _, m := range a.modules {
		if err := m.InitGenesis(ctx, g.Modules[m.Name()]); err != nil {
			return nil, err
		}
	}
	root, err := a.store.Stage(s.Changes())
	if err != nil {
		return nil, err
	}
	hash, err := mq.Block{Height: 0, StateRoot: root}.AppHash(a.chainID, nil)
	if err != nil {
		return nil, err
	}
	meta := store.Meta{Height: 0, AppHash: hash}
	if err := a.store.Commit(meta, nil); err != nil {
		return nil, err
	}
	a.last, a.params, a.check = meta, g.Chain, state.NewOverlay(a.store)
	return &abci.InitChainResponse{AppHash: hash}, nil
}

func (a *App) moduleNames() []string {
	names := make([]string, len(a.modules))
	for i, m := range a.modules {
		names[i] = m.Name()
	}
	return names
}

// CheckTx admits a transaction to the mempool if it would succeed on the
// mempool's view of state; running it there lets a sender queue several.
func (a *App) CheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	// The mempool checks against the last block's time: the next block's
	// is not known yet.
	out := a.runTx(a.check, a.block(a.last.Height+1, time.Unix(0, a.last.Time)), req.Tx, true)
	code, space, log, _ := result(out)
	return &abci.CheckTxResponse{Code: code, Codespace: space, Log: log, GasWanted: int64(out.gasWant), GasUsed: int64(out.gasUsed)}, nil
}

// FinalizeBlock executes the block's transactions in order on a fresh
// overlay; nothing reaches disk until Commit.
func (a *App) FinalizeBlock(_ context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	if req.Height != a.last.Height+1 {
		return nil, fmt.Errorf("finalize height %d, last committed %d", req.Height, a.last.Height)
	}
	blk := a.block(req.Height, req.Time)
	s := state.NewOverlay(a.store)
	upEvents, err := a.applyUpgrade(s, blk)
	if err != nil {
		return nil, err
	}
	results := make([]*abci.ExecTxResult, len(req.Txs))
	var msgs []mq.Message
	for i, raw := range req.Txs {
		out := a.runTx(s, blk, raw, false)
		code, space, log, events := result(out)
		results[i] = &abci.ExecTxResult{Code: code, Codespace: space, Log: log, Events: events, GasWanted: int64(out.gasWant), GasUsed: int64(out.gasUsed)}
		if out.ctx != nil {
			msgs = append(msgs, out.ctx.Messages()...)
		}
	}
	endMsgs, endEvents, err := a.endBlock(s, blk)
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, endMsgs...)
	store.RecordBlockHash(s, req.Height, req.Hash)
	root, err := a.store.Stage(s.Changes())
	if err != nil {
		return nil, err
	}
	d := mq.Block{Height: req.Height, StateRoot: root, Messages: msgs}
	hash, err := d.AppHash(a.chainID, a.last.AppHash)
	if err != nil {
		return nil, err
	}
	a.pending = &pendingBlock{height: req.Height, blockHash: req.Hash, time: req.Time, appHash: hash, digest: d}
	return &abci.FinalizeBlockResponse{TxResults: results, Events: abciEvents(append(upEvents, endEvents...)), AppHash: hash}, nil
}

// block is the context every transaction of a block shares.
func (a *App) block(height int64, t time.Time) module.Block {
	return module.Block{ChainID: a.chainID, Height: height, Time: t, Committed: a.store, RecentBlockHash: a.store.BlockHash, Egress: a.egress, Dispatch: a.dispatch}
}

// dispatch runs an Authority method's handler for governance (module.Block.Dispatch).
func (a *App) dispatch(ctx *module.Context, method string, body []byte) error {
	m, ok := a.methods[method]
	if !ok {
		return tx.ErrUnknownMethod.Wrapf("%q", method)
	}
	if !m.Authority {
		return tx.ErrUnknownMethod.Wrapf("%q is not a method governance may run", method)
	}
	return m.Handle(ctx, body)
}

// endBlock runs the modules' end-of-block work on the block's overlay: the
// messages it publishes for enclaves and the events it emits for clients
// (the block's own events, beside its transactions').
func (a *App) endBlock(s *state.Overlay, blk module.Block) ([]mq.Message, []module.Event, error) {
	var msgs []mq.Message
	var events []module.Event
	for _, m := range a.modules {
		eb, ok := m.(module.EndBlocker)
		if !ok {
			continue
		}
		ctx := &module.Context{Block: blk, Store: s}
		if err := eb.EndBlock(ctx); err != nil {
			return nil, nil, fmt.Errorf("end of block %d, module %s: %w", blk.Height, m.Name(), err)
		}
		msgs = append(msgs, ctx.Messages()...)
		events = append(events, ctx.Events()...)
	}
	return msgs, events, nil
}

// Commit writes the finalized block atomically and resets the mempool view.
func (a *App) Commit(context.Context, *abci.CommitRequest) (*abci.CommitResponse, error) {
	p := a.pending
	if p == nil {
		return nil, errors.New("commit without a finalized block")
	}
	meta := store.Meta{Height: p.height, AppHash: p.appHash, BlockHash: p.blockHash, Time: p.time.UnixNano()}
	if err := a.store.Commit(meta, codec.MustMarshal(p.digest)); err != nil {
		return nil, err
	}
	a.last, a.pending, a.check = meta, nil, state.NewOverlay(a.store)
	if a.snap.mgr != nil {
		a.snap.mgr.Committed(meta) // a snapshot every N heights, in the background
	}
	if err := a.watchUpgrade(); err != nil {
		// The block is committed; only the watch failed. The next
		// FinalizeBlock reads the plan again and refuses what it cannot run.
		a.log.Error("reading the upgrade plan after commit", "height", meta.Height, "err", err)
	}
	return &abci.CommitResponse{}, nil
}

// Block returns what a committed block means for the app hash: its writes
// hash and its message list for enclaves, which relays hand to enclaves.
func (a *App) Block(height int64) (mq.Block, error) {
	if height < 1 || height > a.last.Height {
		return mq.Block{}, module.ErrNotFound.Wrapf("block %d (last committed %d)", height, a.last.Height)
	}
	raw, err := a.store.BlockDigest(height)
	if err != nil {
		return mq.Block{}, err
	}
	if raw == nil {
		// Only a node restored from a snapshot lacks digests: it has none
		// before its snapshot's height. Relays need a node with history.
		return mq.Block{}, module.ErrNotFound.Wrapf("block %d's digest: this node holds no history before its state-sync snapshot", height)
	}
	var d mq.Block
	if err := codec.Unmarshal(raw, &d); err != nil {
		return mq.Block{}, fmt.Errorf("digest of block %d is corrupt: %w", height, err)
	}
	return d, nil
}

// Messages returns the message list for enclaves of a committed block.
func (a *App) Messages(height int64) ([]mq.Message, error) {
	d, err := a.Block(height)
	return d.Messages, err
}
