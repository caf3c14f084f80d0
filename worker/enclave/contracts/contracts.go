// Package contracts is the enclave module that runs confidential
// contracts in a worker (issue 14, part B). For the clusters whose key
// this worker holds it
//
//   - assembles uploaded code from contracts.code and keeps it once
//     contracts.code_stored names it and the bytes hash to it;
//   - on contracts.instantiate opens the init arguments with the cluster
//     key, loads the code into the VM and runs the constructor;
//   - on contracts.command derives the contract key of the command's
//     generation (as the gatekeepers do: crypto/derive, cluster key →
//     contract key), opens the command, and runs its method in chain order
//     with the command's gas limit and the sender as caller;
//   - counts each contract's balance, runs the messages contracts send
//     each other after the sending command, and lets queries call the
//     cluster's other contracts (messages.go);
//   - at the end of each block with commands sends one contracts.results
//     message per cluster: each command's status, gas used and payouts,
//     and the state root of each contract the block's commands ran.
//
// Bad input never stops the block: an undecryptable command, a missing
// key generation, an unknown method, a revert, a trap or running out of
// gas each become a coded status (contractsapi.Status) in the results and
// in the command's receipt.
//
// The constructor convention: when the init arguments are not empty, the
// command method "init" runs once, at the instantiation's block, with those
// arguments, the deployer as caller and ConstructorGas; a contract whose
// constructor fails (or that has no "init" but was given arguments: the
// SDK reverts an unknown method) never runs commands (StatusNoContract).
// With empty init arguments no constructor runs. "init" stays callable as
// a command afterwards: contracts guard it (the token refuses a second
// mint).
// A constructor runs with no value and a zero balance (any payment it
// makes fails it) and its messages are not sent.
//
// The module does no I/O: the VM (which compiles and caches code on disk)
// comes in through the VM interface, and the contracts' state pages
// through Pages, both built by the runtime. Each contract's storage is an
// encrypted, authenticated tree of pages outside the enclave (store.go,
// package statetree); the checkpoint section keeps its root.
package contracts

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/vm/meter"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/statetree"
)

// Name is the module's checkpoint section.
const Name = "contracts"

// ConstructorGas is the gas of a constructor: the same on every worker.
const ConstructorGas = 1_000_000_000

// MaxReceipts bounds the receipts kept for serving (the oldest go first).
const MaxReceipts = 4096

// Module runs contracts. Folds are not safe for concurrent use (the loop
// is not); the query methods (query.go) are safe for concurrent use with
// each other while no fold runs.
type Module struct {
	vm    VM
	pages Pages
	cache *statetree.Cache // decoded state pages of every contract
	// startMu guards starting instances (lc.inst, lc.store, programs),
	// which concurrent queries may both want.
	startMu sync.Mutex

	st State // Contracts is filled only by MarshalState; live holds them

	live     map[contractsapi.Hash]*liveContract
	accounts map[address.Address]contractsapi.Hash // the live contracts by account
	programs map[contractsapi.Hash]Program         // by code hash; memory only
	block    map[string]*blockResults              // this block's results by cluster
	// section caches MarshalState's encoding until the state changes: the
	// loop hashes the state at every status request, and codes weigh
	// megabytes.
	section []byte
}

type liveContract struct {
	c     Contract        // Root is the store's once it is open
	store *statetree.Tree // opened on first use (it needs the key)
	// kept is the root in the newest checkpoint sealed: a sweep keeps
	// its pages, since a restart may resume from it.
	kept contractsapi.Hash
	inst Instance // started on first use; memory only
}

type blockResults struct {
	commands []contractsapi.CommandResult
	touched  map[contractsapi.Hash]bool
}

var (
	_ module.Module   = (*Module)(nil)
	_ module.Follower = (*Module)(nil)
)

// New is the module at genesis, running contracts on v with their state
// in pages.
func New(v VM, pages Pages) *Module {
	return &Module{vm: v, pages: pages, cache: statetree.NewCache(statetree.DefaultCacheBytes),
		live: map[contractsapi.Hash]*liveContract{}, accounts: map[address.Address]contractsapi.Hash{},
		programs: map[contractsapi.Hash]Program{}}
}

// Name implements module.Module.
func (*Module) Name() string { return Name }

// Topics implements module.Module.
func (*Module) Topics() []string {
	return []string{contractsapi.TopicCode, contractsapi.TopicCodeStored, contractsapi.TopicInstantiate, contractsapi.TopicCommand, contractsapi.TopicUploadDropped}
}

// Follows implements module.Follower: the recorded master generations
// (the keys module owns the topic) say which cluster key generations to
// try on init arguments.
func (*Module) Follows() []string { return []string{keysapi.TopicMasterRecorded} }

// BeginBlock implements module.Module.
func (m *Module) BeginBlock(*module.Context) { m.block = map[string]*blockResults{} }

// Fold implements module.Module. An error means the payload did not
// decode (the loop counts and skips it); everything a contract or a user
// got wrong is a status instead.
func (m *Module) Fold(ctx *module.Context, msg mq.Message) (module.Effects, error) {
	m.section = nil
	switch msg.Topic {
	case keysapi.TopicMasterRecorded:
		var r keysapi.MasterRecorded
		if err := codec.UnmarshalCanonical(msg.Payload, &r); err != nil {
			return module.Effects{}, err
		}
		if i, found := slices.BinarySearch(m.st.Generations, r.Generation); !found {
			m.st.Generations = slices.Insert(m.st.Generations, i, r.Generation)
		}
	case contractsapi.TopicCode:
		ch, err := contractsapi.DecodeCodeChunk(msg.Payload)
		if err != nil {
			return module.Effects{}, err
		}
		m.chunk(ctx, ch)
	case contractsapi.TopicCodeStored:
		c, err := contractsapi.DecodeCode(msg.Payload)
		if err != nil {
			return module.Effects{}, err
		}
		m.stored(ctx, c)
	case contractsapi.TopicInstantiate:
		in, err := contractsapi.DecodeInstantiated(msg.Payload)
		if err != nil {
			return module.Effects{}, err
		}
		m.instantiate(ctx, in)
	case contractsapi.TopicCommand:
		cm, err := contractsapi.DecodeCommandMessage(msg.Payload)
		if err != nil {
			return module.Effects{}, err
		}
		m.command(ctx, cm)
	case contractsapi.TopicUploadDropped:
		d, err := contractsapi.DecodeUploadDropped(msg.Payload)
		if err != nil {
			return module.Effects{}, err
		}
		m.dropUpload(d)
	}
	return module.Effects{}, nil
}

// EndBlock implements module.Module: one contracts.results per cluster
// whose contracts had commands in the block, clusters in order.
func (m *Module) EndBlock(ctx *module.Context) module.Effects {
	var eff module.Effects
	failed := m.commitStores(ctx)
	if len(m.block) > 0 {
		m.section = nil
	}
	clusters := make([]string, 0, len(m.block))
	for c := range m.block {
		clusters = append(clusters, c)
	}
	slices.Sort(clusters)
	for _, cluster := range clusters {
		b := m.block[cluster]
		r := contractsapi.Results{Height: ctx.Height, Cluster: cluster, Commands: b.commands}
		ids := make([]contractsapi.Hash, 0, len(b.touched))
		for id := range b.touched {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b contractsapi.Hash) int { return bytes.Compare(a[:], b[:]) })
		if slices.ContainsFunc(ids, func(id contractsapi.Hash) bool { return failed[id] != nil }) {
			continue // commitStores said why
		}
		for _, id := range ids {
			r.Roots = append(r.Roots, contractsapi.ContractRoot{Contract: id, Root: m.live[id].root()})
		}
		eff.Send(contractsapi.TopicResults, codec.MustMarshal(r))
	}
	m.block = map[string]*blockResults{}
	return eff
}

// chunk adds an uploaded chunk; offset 0 (re)starts its upload.
func (m *Module) chunk(ctx *module.Context, ch contractsapi.CodeChunk) {
	if _, ok := findCode(m.st.Codes, ch.CodeHash); ok {
		return
	}
	i := slices.IndexFunc(m.st.Uploads, func(u Upload) bool { return u.Uploader == ch.Uploader && u.CodeHash == ch.CodeHash })
	if ch.Offset == 0 {
		u := Upload{Uploader: ch.Uploader, CodeHash: ch.CodeHash, Size: ch.Size, Bytes: bytes.Clone(ch.Chunk)}
		if i >= 0 {
			m.st.Uploads[i] = u
		} else {
			m.st.Uploads = append(m.st.Uploads, u)
		}
		return
	}
	if i < 0 || uint64(len(m.st.Uploads[i].Bytes)) != ch.Offset || m.st.Uploads[i].Size != ch.Size {
		ctx.Log.Warn("contracts: a code chunk out of order (the chain orders them; was this worker started mid-upload?)", "code", ch.CodeHash, "offset", ch.Offset)
		return
	}
	m.st.Uploads[i].Bytes = append(m.st.Uploads[i].Bytes, ch.Chunk...)
}

// stored makes an assembled code final if its bytes hash to its hash.
func (m *Module) stored(ctx *module.Context, c contractsapi.Code) {
	i := slices.IndexFunc(m.st.Uploads, func(u Upload) bool { return u.Uploader == c.Uploader && u.CodeHash == c.Hash })
	if i < 0 {
		ctx.Log.Warn("contracts: a stored code this worker did not assemble", "code", c.Hash)
		return
	}
	u := m.st.Uploads[i]
	m.st.Uploads = slices.Delete(m.st.Uploads, i, i+1)
	if sha256.Sum256(u.Bytes) != c.Hash || uint64(len(u.Bytes)) != c.Size {
		ctx.Log.Error("contracts: the assembled code does not hash to its code hash", "code", c.Hash, "size", len(u.Bytes))
		return
	}
	if j, found := findCode(m.st.Codes, c.Hash); !found {
		m.st.Codes = slices.Insert(m.st.Codes, j, Code{Hash: c.Hash, Bytes: u.Bytes})
	}
}

// instantiate starts a contract of a cluster this worker holds a key of
// and runs its constructor.
func (m *Module) instantiate(ctx *module.Context, in contractsapi.Instantiated) {
	if ctx.Role != registryapi.RoleWorker || m.live[in.Contract] != nil {
		return
	}
	var init []byte
	var gen uint32
	held := false
	for _, g := range slices.Backward(m.st.Generations) {
		ck, ok := ctx.Secrets.Cluster(in.Cluster, g)
		if !ok {
			continue
		}
		held = true
		priv, err := ck.EncryptionKey(ctx.ChainID)
		if err != nil {
			continue
		}
		plain, err := envelope.Open(ctx.ChainID, envelope.Command, priv, in.InitArgs, contractsapi.InitAAD(in.Contract))
		if err != nil {
			continue
		}
		if ia, err := contractsapi.DecodeInit(plain); err == nil {
			init, gen = ia.Args, g
			break
		}
	}
	if !held {
		return // not a cluster of this worker
	}
	lc := &liveContract{
		c: Contract{ID: in.Contract, CodeHash: in.CodeHash, Cluster: in.Cluster, Deployer: in.Deployer, Generation: gen, Height: ctx.Height},
	}
	m.addLive(lc)
	if gen != 0 { // its state starts as an empty tree, committed with the block
		if _, err := m.store(ctx, lc); err != nil {
			ctx.Log.Error("contracts: cannot open a contract's state", "contract", in.Contract, "err", err)
		}
	}
	switch {
	case gen == 0:
		lc.c.Constructor = contractsapi.StatusUndecryptable
	case len(init) == 0:
		lc.c.Constructor = contractsapi.StatusOK
	default:
		res, err := m.call(ctx, lc, vm.Call{Mode: vm.Command, Caller: in.Deployer[:], Height: ctx.Height, Time: ctx.Time.UnixNano(),
			Input: message("init", init), GasLimit: ConstructorGas})
		lc.c.Constructor = statusOf(err)
		if err != nil {
			ctx.Log.Warn("contracts: a constructor failed; the contract will not run", "contract", in.Contract, "status", lc.c.Constructor, "gas", res.GasUsed, "err", err)
		}
	}
}

// command runs one command, and the messages it sends, and records its
// result and receipt.
func (m *Module) command(ctx *module.Context, cm contractsapi.CommandMessage) {
	lc := m.live[cm.Contract]
	if lc == nil || ctx.Role != registryapi.RoleWorker {
		return // not a contract of this worker's clusters
	}
	b := m.block[lc.c.Cluster]
	if b == nil {
		b = &blockResults{touched: map[contractsapi.Hash]bool{}}
		m.block[lc.c.Cluster] = b
	}
	b.touched[cm.Contract] = true
	rec := ReceiptRecord{Receipt: Receipt{Seq: cm.Seq, Height: ctx.Height, TxHash: cm.TxHash, Generation: cm.Generation}}
	x := &execution{m: m, ctx: ctx, cm: cm, rec: &rec, touched: b.touched}
	rec.Receipt.Status, rec.Receipt.GasUsed = x.run(lc)
	b.commands = append(b.commands, contractsapi.CommandResult{Seq: cm.Seq, Status: rec.Receipt.Status, GasUsed: rec.Receipt.GasUsed,
		Payouts: rec.Receipt.Payouts})
	m.keepReceipt(rec)
}

// open opens a command for lc: its plaintext, or the status refusing it
// (refusals before the VM use no gas).
func (m *Module) open(ctx *module.Context, lc *liveContract, cm contractsapi.CommandMessage) (contractsapi.CommandPlain, contractsapi.Status) {
	if !lc.c.running() {
		return contractsapi.CommandPlain{}, contractsapi.StatusNoContract
	}
	ct, ok := contractKey(ctx, lc.c.Cluster, cm.Generation, cm.Contract)
	if !ok {
		return contractsapi.CommandPlain{}, contractsapi.StatusNoKey
	}
	priv, err := ct.EncryptionKey(ctx.ChainID)
	if err != nil {
		return contractsapi.CommandPlain{}, contractsapi.StatusNoKey
	}
	plain, err := envelope.Open(ctx.ChainID, envelope.Command, priv, cm.Sealed, contractsapi.CommandAAD(cm.Contract, cm.Sender))
	if err != nil {
		return contractsapi.CommandPlain{}, contractsapi.StatusUndecryptable
	}
	cp, err := contractsapi.DecodeCommandPlain(plain)
	if err != nil || strings.IndexByte(cp.Method, 0) >= 0 {
		return contractsapi.CommandPlain{}, contractsapi.StatusMalformed
	}
	return cp, contractsapi.StatusOK
}

// forSender are the events of a call its sender may read: public ones
// and those addressed to it.
func forSender(events []vm.Event, sender address.Address) []ReceiptEvent {
	var out []ReceiptEvent
	for _, e := range events {
		if e.Audience == nil || slices.ContainsFunc(e.Audience, func(a []byte) bool { return bytes.Equal(a, sender[:]) }) {
			out = append(out, ReceiptEvent{Topic: e.Topic, Data: e.Data})
		}
	}
	return out
}

// addLive keeps a contract running here, found by id and by account.
func (m *Module) addLive(lc *liveContract) {
	m.live[lc.c.ID] = lc
	m.accounts[contractsapi.ContractAccount(lc.c.ID)] = lc.c.ID
}

// call runs c on the contract's instance, starting it if needed.
func (m *Module) call(ctx *module.Context, lc *liveContract, c vm.Call) (vm.Result, error) {
	return m.callWaiting(context.Background(), ctx, lc, c)
}

// callWaiting is call, waiting for a free query reactor only until wait ends.
func (m *Module) callWaiting(wait context.Context, ctx *module.Context, lc *liveContract, c vm.Call) (vm.Result, error) {
	inst, err := m.started(ctx, lc)
	if err != nil {
		return vm.Result{}, err
	}
	return inst.Call(wait, c)
}

// started is the contract's instance, started on first use. Queries call
// it concurrently with each other (never with a fold), so starting is
// guarded by its own lock.
func (m *Module) started(ctx *module.Context, lc *liveContract) (Instance, error) {
	m.startMu.Lock()
	defer m.startMu.Unlock()
	if lc.inst == nil {
		inst, err := m.instance(ctx, lc)
		if err != nil {
			ctx.Log.Error("contracts: cannot start a contract", "contract", lc.c.ID, "err", err)
			return nil, err
		}
		lc.inst = inst
	}
	return lc.inst, nil
}

func (m *Module) instance(ctx *module.Context, lc *liveContract) (Instance, error) {
	p := m.programs[lc.c.CodeHash]
	if p == nil {
		i, ok := findCode(m.st.Codes, lc.c.CodeHash)
		if !ok {
			return nil, errNoCode
		}
		var err error
		if p, err = m.vm.Load(context.Background(), m.st.Codes[i].Bytes); err != nil {
			return nil, err
		}
		m.programs[lc.c.CodeHash] = p
	}
	ct, ok := contractKey(ctx, lc.c.Cluster, lc.c.Generation, lc.c.ID)
	if !ok {
		return nil, errNoKey
	}
	seed, err := ct.RandomSeed(ctx.ChainID)
	if err != nil {
		return nil, err
	}
	store, err := m.store(ctx, lc)
	if err != nil {
		return nil, err
	}
	id := lc.c.ID
	return p.NewInstance(vm.Env{
		ContractID: id[:],
		Store:      store,
		Seed:       seed[:],
		DeriveKey: func(purpose string) (ed25519.PrivateKey, error) {
			return ct.PurposeSigningKey(ctx.ChainID, purpose)
		},
	}), nil
}

var (
	errNoCode = errors.New("the contract's code is not on this worker")
	errNoKey  = errors.New("the contract's key generation is not held")
)

// contractKey derives a contract's key of generation g from the cluster
// key, as the gatekeepers derive its public key (worker/enclave/keys).
func contractKey(ctx *module.Context, cluster string, g uint32, id contractsapi.Hash) (derive.ContractKey, bool) {
	ck, ok := ctx.Secrets.Cluster(cluster, g)
	if !ok {
		return derive.ContractKey{}, false
	}
	ct, err := ck.Contract(ctx.ChainID, id[:])
	return ct, err == nil
}

// message is a call's input: method, a zero byte, the JSON arguments (the
// SDK's EncodeMessage).
func message(method string, args []byte) []byte {
	return append(append([]byte(method), 0), args...)
}

// statusOf maps a VM outcome to its status code.
func statusOf(err error) contractsapi.Status {
	switch {
	case err == nil:
		return contractsapi.StatusOK
	case errors.Is(err, meter.ErrOutOfGas):
		return contractsapi.StatusOutOfGas
	case errors.Is(err, vm.ErrReverted):
		return contractsapi.StatusReverted
	case errors.Is(err, vm.ErrOverdrawn):
		return contractsapi.StatusOverdrawn
	case errors.Is(err, vm.ErrTrap), errors.Is(err, vm.ErrExit), errors.Is(err, meter.ErrStackOverflow):
		return contractsapi.StatusTrap
	case errors.Is(err, errNoCode):
		return contractsapi.StatusNoContract
	case errors.Is(err, errNoKey):
		return contractsapi.StatusNoKey
	}
	return contractsapi.StatusVMError
}

// MarshalState implements module.Module.
func (m *Module) MarshalState() []byte {
	if m.section != nil {
		return m.section
	}
	st := m.st
	st.Contracts = make([]Contract, 0, len(m.live))
	for _, lc := range m.live {
		c := lc.c
		c.Root = lc.root()
		st.Contracts = append(st.Contracts, c)
	}
	slices.SortFunc(st.Contracts, func(a, b Contract) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	m.section = codec.MustMarshal(st)
	return m.section
}

// UnmarshalState implements module.Module. Instances start again lazily:
// a reactor started in any block is the same, so gas does not change.
func (m *Module) UnmarshalState(section []byte) error {
	var st State
	if err := codec.UnmarshalCanonical(section, &st); err != nil {
		return fmt.Errorf("contracts state: %w", err)
	}
	m.closeInstances()
	m.live, m.accounts = map[contractsapi.Hash]*liveContract{}, map[address.Address]contractsapi.Hash{}
	for _, c := range st.Contracts {
		if err := m.checkRoot(c); err != nil {
			return fmt.Errorf("contracts state: %w", err)
		}
		m.addLive(&liveContract{c: c, kept: c.Root})
	}
	st.Contracts = nil
	m.st, m.section = st, nil
	return nil
}

func (m *Module) closeInstances() {
	for _, lc := range m.live {
		if lc.inst != nil {
			_ = lc.inst.Close(context.Background())
			lc.inst = nil
		}
	}
}

// Close stops the contracts' instances.
func (m *Module) Close() { m.closeInstances() }

// Receipts are the receipts kept, oldest first.
func (m *Module) Receipts() []ReceiptRecord { return slices.Clone(m.st.Receipts) }

// Root is a contract's state root now (false: not running here).
func (m *Module) Root(id contractsapi.Hash) (contractsapi.Hash, bool) {
	lc := m.live[id]
	if lc == nil {
		return contractsapi.Hash{}, false
	}
	return lc.root(), true
}

// Balance is a contract's balance as this worker counts it (false: not
// running here).
func (m *Module) Balance(id contractsapi.Hash) (token.Amount, bool) {
	lc := m.live[id]
	if lc == nil {
		return token.Amount{}, false
	}
	return lc.c.Balance, true
}

// ContractStatus is a contract's constructor status (false: unknown here).
func (m *Module) ContractStatus(id contractsapi.Hash) (contractsapi.Status, bool) {
	lc := m.live[id]
	if lc == nil {
		return 0, false
	}
	return lc.c.Constructor, true
}
