package vm

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm/meter"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// Mode says which entry point a call runs and which host calls it may use.
type Mode int

const (
	// Command runs phala_command: ordered by the chain, deterministic, its
	// storage writes are kept when it succeeds.
	Command Mode = iota
	// Query runs phala_query: a read on a snapshot; writes are discarded and
	// http_get is allowed.
	Query
)

// Entry-point export names (see ABI.md).
const (
	ExportCommand = "phala_command"
	ExportQuery   = "phala_query"
)

func (m Mode) export() string {
	if m == Query {
		return ExportQuery
	}
	return ExportCommand
}

// Env is what the host gives one contract for its whole life.
type Env struct {
	ContractID []byte
	Store      Store
	// Seed keys the contract's deterministic random stream (derived by the
	// host from the contract key).
	Seed []byte
	// DeriveKey returns the contract's signing key for a purpose.
	DeriveKey func(purpose string) (ed25519.PrivateKey, error)
}

// Call is one invocation.
type Call struct {
	Mode     Mode
	Caller   []byte // authenticated caller address
	Height   int64
	Time     int64  // block time, unix nanoseconds
	Nonce    uint64 // keys this call's random stream with Env.Seed (e.g. the event's sequence)
	Input    []byte
	GasLimit uint64

	// Value is what a command moved to the contract's account (value);
	// queries see zero whatever is set.
	Value token.Amount
	// Balance is the contract's balance before the call as the host knows
	// it; balance answers it plus Value less what the call paid.
	Balance token.Amount
	// Depth is 0 for a call from outside, one more per contract-to-contract
	// hop (query_contract; messages queued by send).
	Depth int
	// Peers serves query_contract in queries; nil: no other contract is
	// reachable (query_contract answers -2).
	Peers Peers
}

// Peers lets a query call another contract's query. The host supplies it
// per call, so the VM knows nothing of where contracts live: the
// implementation finds the contract, runs input as its query with gas as
// the limit and depth as Call.Depth, and answers ErrUnknownContract or
// ErrCallDepth for calls it refuses (unknown, out of reach, reentrant).
type Peers interface {
	QueryPeer(ctx context.Context, contract, input []byte, gas uint64, depth int) (Result, error)
}

// Payout is a payment a successful command asks the host to make from
// the contract's account.
type Payout struct {
	To     []byte // an account address, AddressBytes long
	Amount token.Amount
}

// Message is a call input a successful command queued for another
// contract (send).
type Message struct {
	Contract []byte
	Input    []byte
}

// Event is emitted by a successful call.
type Event struct {
	Topic string
	Data  []byte
	// Audience is nil for a public event, else the accounts it is sealed to.
	Audience [][]byte
}

// Result is a call's outcome. GasUsed is set also when the call failed.
type Result struct {
	GasUsed uint64
	Output  []byte  // return_data; the revert message when reverted
	Events  []Event // only when the call succeeded
	Log     []byte  // captured stdout/stderr, bounded by MaxLogBytes
	// Payouts and Sends are what a successful command asked for, in the
	// order it asked; a failed call's are dropped, like its writes.
	Payouts []Payout
	Sends   []Message
}

// Instance is one contract's running code. It keeps one reactor for
// commands and a small pool of reactors for queries. A call's gas depends
// on its reactor's history (the Go heap, lazily built caches), so queries,
// which differ from worker to worker, must never touch the reactor
// commands run on, and the command reactor is reset to its state after
// _initialize at the first command of every block: a command's gas is then
// a function of the module, its input, the storage and the commands before
// it in the same block, the same on every worker, whether it has run for
// months or restarted from a checkpoint a minute ago.
//
// Commands are serialised. Queries run at once, each on its own reactor
// (at most Config.QueryReactors of them; more wait for one to come free),
// and read the Store concurrently: the host must not change the Store
// while queries run (the worker runtime applies blocks under its write
// lock and answers queries under its read lock).
type Instance struct {
	m   *Module
	env Env

	// life is shared by every call and taken alone by Close, so Close
	// waits for the calls in flight.
	life   sync.RWMutex
	closed bool

	cmd     sync.Mutex // serialises commands and resets of their reactor
	command *reactor   // nil before the first command and after a failure

	queries queryPool

	keysMu sync.Mutex
	keys   map[string]ed25519.PrivateKey
}

// queryPool is an instance's query reactors. A query holds a slot while it
// runs, so at most cap(slots) reactors exist; idle ones wait in idle.
type queryPool struct {
	slots chan struct{}
	mu    sync.Mutex
	idle  []*reactor
}

func (p *queryPool) take() *reactor {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		return nil
	}
	r := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return r
}

func (p *queryPool) put(r *reactor) {
	p.mu.Lock()
	p.idle = append(p.idle, r)
	p.mu.Unlock()
}

// drain empties the idle list and returns what it held.
func (p *queryPool) drain() []*reactor {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.idle
	p.idle = nil
	return out
}

// reactor is one instantiated module and its metering globals.
type reactor struct {
	mod    api.Module
	entry  api.Function      // nil when the module lacks this mode's export
	gas    api.MutableGlobal // nil when unmetered
	oog    api.MutableGlobal
	stack  api.MutableGlobal // the meter's stack-overflow flag
	depth  api.MutableGlobal // the meter's call-depth counter
	fresh  *snapshot         // the state after _initialize; nil when unmetered
	height int64             // block height of the last call
}

// NewInstance binds a module to a contract's environment. The reactors
// start lazily on the first call of each mode.
func (m *Module) NewInstance(env Env) *Instance {
	if env.Store == nil {
		env.Store = NewMemStore()
	}
	return &Instance{m: m, env: env, keys: map[string]ed25519.PrivateKey{},
		queries: queryPool{slots: make(chan struct{}, m.e.cfg.QueryReactors)}}
}

// Close stops the reactors, once the calls in flight have returned.
func (i *Instance) Close(ctx context.Context) error {
	i.life.Lock()
	defer i.life.Unlock()
	i.closed = true
	err := i.dropCommand(ctx)
	for _, r := range i.queries.drain() {
		err = errors.Join(err, r.mod.Close(ctx))
	}
	return err
}

// Reset brings every idle reactor back to its state after _initialize, as
// the first command of a block does for the command reactor.
func (i *Instance) Reset(ctx context.Context) error {
	i.life.RLock()
	defer i.life.RUnlock()
	i.cmd.Lock()
	err := i.resetCommand(ctx)
	i.cmd.Unlock()
	for _, r := range i.queries.drain() {
		if r.fresh != nil && r.fresh.restore(r.mod) {
			i.queries.put(r)
			continue
		}
		err = errors.Join(err, r.mod.Close(ctx))
	}
	return err
}

// resetCommand restores the command reactor from its snapshot, or drops it
// (the next command starts a new one) when it has none or its memory has
// grown.
func (i *Instance) resetCommand(ctx context.Context) error {
	r := i.command
	if r == nil || r.fresh != nil && r.fresh.restore(r.mod) {
		return nil
	}
	return i.dropCommand(ctx)
}

func (i *Instance) dropCommand(ctx context.Context) error {
	r := i.command
	if r == nil {
		return nil
	}
	i.command = nil
	return r.mod.Close(ctx)
}

// Start runs the _initialize of a reactor of c.Mode now (Call does it
// lazily): the command reactor, counted as started in c's block, or one
// more idle query reactor. It is a no-op on a started command reactor.
func (i *Instance) Start(ctx context.Context, c Call) error {
	i.life.RLock()
	defer i.life.RUnlock()
	if i.closed {
		return ErrClosed
	}
	if c.Mode == Query {
		r, _, err := i.start(ctx, c)
		if err == nil {
			i.queries.put(r)
		}
		return err
	}
	i.cmd.Lock()
	defer i.cmd.Unlock()
	if i.command != nil {
		return nil
	}
	r, _, err := i.start(ctx, c)
	if err == nil {
		i.command = r
	}
	return err
}

// Call runs one entry point with c.GasLimit. A contract failure (revert,
// trap, exit, out of gas) is returned as an error with the Result still
// carrying the gas used and the log; the instance stays usable. A query
// waits for a free query reactor until ctx ends.
func (i *Instance) Call(ctx context.Context, c Call) (Result, error) {
	i.life.RLock()
	defer i.life.RUnlock()
	if i.closed {
		return Result{}, ErrClosed
	}
	if c.Mode != Command && c.Mode != Query {
		return Result{}, ErrNoEntry.Wrapf("mode %d", c.Mode)
	}
	if c.Mode == Query {
		c.Value = token.Amount{}
	}
	if _, err := c.Balance.Add(c.Value); err != nil {
		return Result{}, ErrHostLimit.Wrapf("balance plus value overflows")
	}
	if len(c.Input) > i.m.e.cfg.MaxInputBytes {
		return Result{}, ErrHostLimit.Wrapf("input is %d bytes, limit %d", len(c.Input), i.m.e.cfg.MaxInputBytes)
	}
	if c.Mode == Query {
		return i.query(ctx, c)
	}
	return i.commandCall(ctx, c)
}

func (i *Instance) commandCall(ctx context.Context, c Call) (Result, error) {
	i.cmd.Lock()
	defer i.cmd.Unlock()
	if r := i.command; r != nil && r.height != c.Height {
		if err := i.resetCommand(ctx); err != nil {
			return Result{}, err
		}
	}
	if i.command == nil {
		r, res, err := i.start(ctx, c)
		if err != nil {
			return res, err
		}
		i.command = r
	}
	res, err, ok := i.exec(ctx, i.command, c)
	if !ok {
		_ = i.dropCommand(ctx)
	}
	return res, err
}

// query runs c on an idle query reactor, or a new one while fewer than
// QueryReactors exist, and gives it back unless the call broke it.
func (i *Instance) query(ctx context.Context, c Call) (Result, error) {
	select {
	case i.queries.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ErrBusy.Wrapf("no query reactor came free: %v", ctx.Err())
	}
	defer func() { <-i.queries.slots }()
	r := i.queries.take()
	if r == nil {
		var res Result
		var err error
		if r, res, err = i.start(ctx, c); err != nil {
			return res, err
		}
	}
	res, err, ok := i.exec(ctx, r, c)
	if ok {
		i.queries.put(r)
	} else {
		_ = r.mod.Close(ctx)
	}
	return res, err
}

// exec runs c on r. ok is false when r broke and must be dropped.
func (i *Instance) exec(ctx context.Context, r *reactor, c Call) (Result, error, bool) {
	r.height = c.Height
	if r.entry == nil {
		return Result{}, ErrNoEntry.Wrapf("%s", c.Mode.export()), true
	}
	st := newCallState(i, r, c)
	res, err := i.run(ctx, st, r.entry, c.GasLimit)
	if err != nil {
		return res, err, false
	}
	if st.reverted {
		res.Output = st.revert
		return res, ErrReverted.Wrapf("%s", st.revert), true
	}
	if c.Mode == Command {
		if err := st.store.commit(); err != nil {
			return res, ErrStore.Wrapf("%v", err), true
		}
	}
	res.Output, res.Events = st.output, st.events
	res.Payouts, res.Sends = st.payouts, st.sends
	return res, nil, true
}

// start instantiates a reactor of c.Mode, runs _initialize with InitGas
// and keeps a snapshot of the result. _initialize runs outside any block
// (height and time 0), so a reactor started in any block is the same.
func (i *Instance) start(ctx context.Context, c Call) (*reactor, Result, error) {
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
	mod, err := i.m.e.rt.InstantiateModule(ctx, i.m.compiled, cfg)
	if err != nil {
		return nil, Result{}, ErrInit.Wrapf("%s", firstLine(err.Error()))
	}
	r := &reactor{mod: mod, height: c.Height}
	if f := mod.ExportedFunction(c.Mode.export()); f != nil && len(f.Definition().ParamTypes()) == 0 && len(f.Definition().ResultTypes()) == 0 {
		r.entry = f
	}
	if !i.m.e.cfg.unmeteredForTests {
		r.gas, _ = mod.ExportedGlobal(gasGlobal).(api.MutableGlobal)
		r.oog, _ = mod.ExportedGlobal(outOfGasGlobal).(api.MutableGlobal)
		if r.gas == nil || r.oog == nil {
			_ = mod.Close(ctx)
			return nil, Result{}, ErrInit.Wrapf("instrumented module lacks gas globals")
		}
	}
	r.stack, _ = mod.ExportedGlobal(meter.StackOverflowGlobal).(api.MutableGlobal)
	r.depth, _ = mod.ExportedGlobal(meter.CallDepthGlobal).(api.MutableGlobal)
	st := newCallState(i, r, Call{Mode: c.Mode})
	st.init = true
	res, err := i.run(ctx, st, mod.ExportedFunction("_initialize"), i.m.e.cfg.InitGas)
	if err != nil {
		_ = mod.Close(ctx)
		return nil, res, ErrInit.Wrapf("%v", err)
	}
	if r.gas != nil {
		r.fresh = takeSnapshot(mod)
	}
	return r, Result{}, nil
}

// run sets the gas, calls fn and classifies the outcome. After any failure
// the caller drops the reactor: a Go runtime stopped mid-way cannot be
// resumed.
func (i *Instance) run(ctx context.Context, st *callState, fn api.Function, limit uint64) (Result, error) {
	r := st.r
	st.limit = limit
	if r.gas != nil {
		r.gas.Set(limit)
		r.oog.Set(0)
	}
	for _, g := range []api.MutableGlobal{r.stack, r.depth} {
		if g != nil {
			g.Set(0)
		}
	}
	_, callErr := fn.Call(withCallState(ctx, st))
	res := Result{GasUsed: st.used(), Log: st.log}
	if callErr == nil {
		return res, nil
	}
	err := classify(st, callErr)
	if r.gas != nil && errors.Is(err, errOutOfGasKind()) {
		res.GasUsed = limit // out of gas spends the whole budget, whatever was left
	}
	return res, err
}

// classify turns a failed call into a deterministic error.
func classify(st *callState, callErr error) error {
	r := st.r
	if st.abort != nil {
		return st.abort
	}
	if r.oog != nil && r.oog.Get() != 0 {
		return outOfGas(st.limit)
	}
	if r.stack != nil && r.stack.Get() != 0 {
		return stackOverflow()
	}
	var exit *sys.ExitError
	if errors.As(callErr, &exit) {
		return ErrExit.Wrapf("code %d%s", exit.ExitCode(), logTail(st.log))
	}
	msg := firstLine(callErr.Error())
	if strings.Contains(msg, "stack overflow") {
		return stackOverflow()
	}
	return ErrTrap.Wrapf("%s%s", strings.TrimSuffix(msg, " (recovered by wazero)"), logTail(st.log))
}

// logTail quotes the first line of the captured log: a Go panic prints
// "panic: ..." there before exiting.
func logTail(log []byte) string {
	if len(log) == 0 {
		return ""
	}
	return fmt.Sprintf(": %q", firstLine(string(log)))
}
