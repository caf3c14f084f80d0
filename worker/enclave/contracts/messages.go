package contracts

import (
	"context"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/worker/enclave/module"
)

// Value and messages between contracts.
//
// A command that succeeds keeps its value: the contract's Balance grows
// by it and shrinks by the payouts the call made (the VM refuses a payout
// beyond Balance plus value, StatusOverdrawn). A payout to the account of
// a contract of the same cluster also grows that contract's Balance; one
// to any other contract's account reaches it on chain, but its workers do
// not count it (they learn only what their cluster's messages say).
//
// The messages a succeeding call sends run after it, breadth first (all
// of depth 1 in the order sent, then depth 2, ...), in the same block, as
// commands of their contracts: the sending contract's account is the
// caller, the value is zero, the gas limit is what the command has left,
// and the command's gas used counts theirs. A message runs only if it
// names a running contract of the sender's cluster, is within
// contractsapi.MaxMessageDepth and among the first
// contractsapi.MaxCommandMessages; its own messages and payouts count only
// if it succeeds, and its failure changes nothing of the command's (its
// outcome is in the receipt). Every worker runs the same messages in the
// same order, so they report the same results.

// execution is one command being run, with the messages it sets off.
type execution struct {
	m       *Module
	ctx     *module.Context
	cm      contractsapi.CommandMessage
	rec     *ReceiptRecord
	touched map[contractsapi.Hash]bool
	used    uint64 // gas used so far, of cm.GasLimit
	sent    int    // messages taken from the queue so far
}

// queued is a message waiting to run.
type queued struct {
	from  contractsapi.Hash
	depth uint32
	msg   vm.Message
}

// run runs the command and then its messages: the command's status and
// gas used.
func (x *execution) run(lc *liveContract) (contractsapi.Status, uint64) {
	cp, st := x.m.open(x.ctx, lc, x.cm)
	if st != contractsapi.StatusOK {
		return st, 0
	}
	x.rec.ReplyKey = cp.ReplyKey
	res, err := x.m.call(x.ctx, lc, vm.Call{Mode: vm.Command, Caller: x.cm.Sender[:], Height: x.ctx.Height, Time: x.ctx.Time.UnixNano(),
		Nonce: x.cm.Seq, Input: message(cp.Method, cp.Args), GasLimit: x.cm.GasLimit, Value: x.cm.Value, Balance: lc.c.Balance})
	x.charge(res.GasUsed)
	x.rec.Receipt.Output = res.Output // the return value, or the revert message
	x.rec.Receipt.Events = forSender(res.Events, x.cm.Sender)
	x.m.keepEvents(x.ctx, x.cm.Seq, lc.c.ID, res.Events)
	if st = statusOf(err); st != contractsapi.StatusOK {
		return st, x.used
	}
	queue := x.settle(lc, x.cm.Value, res, 1)
	for len(queue) > 0 {
		q := queue[0]
		queue = append(queue[1:], x.deliver(q)...)
	}
	return contractsapi.StatusOK, x.used
}

// charge adds gas a call used; the VM never reports more than the limit
// it was given, and the limits given never exceed what is left.
func (x *execution) charge(gas uint64) {
	x.used = min(x.used+gas, x.cm.GasLimit)
}

// settle books a successful call of lc that brought value: its balance,
// the payouts for the receipt and the results, the balances of the
// contracts of its cluster it paid, and its messages, queued at depth.
func (x *execution) settle(lc *liveContract, value token.Amount, res vm.Result, depth uint32) []queued {
	// The VM refused every payout beyond balance plus value, so neither
	// step below fails; the supply (10^21 base units) keeps every sum far
	// below 2^128.
	bal, _ := lc.c.Balance.Add(value)
	payouts := make([]contractsapi.Payout, 0, len(res.Payouts))
	for _, p := range res.Payouts {
		bal, _ = bal.Sub(p.Amount)
		po := contractsapi.Payout{Contract: lc.c.ID, Amount: p.Amount}
		copy(po.To[:], p.To) // vm.AddressBytes long
		payouts = append(payouts, po)
	}
	lc.c.Balance = bal
	for _, po := range payouts {
		if payee := x.m.byAccount(lc.c.Cluster, po.To); payee != nil {
			if b, err := payee.c.Balance.Add(po.Amount); err == nil {
				payee.c.Balance = b
			}
		}
	}
	x.rec.Receipt.Payouts = append(x.rec.Receipt.Payouts, payouts...)
	var next []queued
	for _, msg := range res.Sends {
		next = append(next, queued{from: lc.c.ID, depth: depth, msg: msg})
	}
	return next
}

// deliver runs one queued message and records its outcome: the messages
// it sends in turn.
func (x *execution) deliver(q queued) []queued {
	x.sent++
	out := MessageOutcome{From: q.from, Depth: q.depth}
	if len(q.msg.Contract) == len(out.Contract) {
		copy(out.Contract[:], q.msg.Contract)
	}
	var next []queued
	target := x.m.live[out.Contract]
	switch {
	case x.sent > contractsapi.MaxCommandMessages || q.depth > contractsapi.MaxMessageDepth:
		out.Status = contractsapi.StatusMessageLimit
	case target == nil || target.c.Cluster != x.m.live[q.from].c.Cluster || len(q.msg.Contract) != len(out.Contract):
		out.Status = contractsapi.StatusNotInCluster
	case !target.c.running():
		out.Status = contractsapi.StatusNoContract
	case x.used >= x.cm.GasLimit:
		out.Status = contractsapi.StatusOutOfGas
	default:
		x.touched[target.c.ID] = true
		caller := contractsapi.ContractAccount(q.from)
		res, err := x.m.call(x.ctx, target, vm.Call{Mode: vm.Command, Caller: caller[:], Height: x.ctx.Height, Time: x.ctx.Time.UnixNano(),
			Nonce: messageNonce(x.cm.Seq, x.sent), Input: q.msg.Input, GasLimit: x.cm.GasLimit - x.used, Balance: target.c.Balance, Depth: int(q.depth)})
		before := x.used
		x.charge(res.GasUsed)
		out.Status, out.GasUsed, out.Output = statusOf(err), x.used-before, res.Output
		out.Events = forSender(res.Events, x.cm.Sender)
		x.m.keepEvents(x.ctx, x.cm.Seq, target.c.ID, res.Events)
		if out.Status == contractsapi.StatusOK {
			next = x.settle(target, token.Amount{}, res, q.depth+1)
		}
	}
	x.rec.Receipt.Messages = append(x.rec.Receipt.Messages, out)
	return next
}

// messageNonce keys the random stream of the i-th message of command seq
// (vm.Call.Nonce): the top bit set, so it never equals a command's own
// nonce (its seq, below 2^47), then seq and i (below 2^16: the queue
// never holds that many).
func messageNonce(seq uint64, i int) uint64 { return 1<<63 | seq<<16 | uint64(i) }

// queryPeers serves query_contract for a query: the contracts of the
// queried contract's cluster, each at most once in a chain of calls.
type queryPeers struct {
	m       *Module
	ctx     *module.Context
	cluster string
	stack   []contractsapi.Hash // the chain of calls, the caller last
}

var _ vm.Peers = (*queryPeers)(nil)

// QueryPeer implements vm.Peers.
func (p *queryPeers) QueryPeer(_ context.Context, contract, input []byte, gas uint64, depth int) (vm.Result, error) {
	lc := p.m.reachable(p.cluster, contract)
	if lc == nil {
		return vm.Result{}, vm.ErrUnknownContract.Wrapf("%x is not a running contract of cluster %q", contract, p.cluster)
	}
	for _, id := range p.stack {
		if id == lc.c.ID {
			return vm.Result{}, vm.ErrCallDepth.Wrapf("contract %s is already in the chain of calls", id)
		}
	}
	caller := contractsapi.ContractAccount(p.stack[len(p.stack)-1])
	p.stack = append(p.stack, lc.c.ID)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	// A query holds its own reactor while it waits for the callee's: two
	// contracts querying each other under load could each hold every
	// reactor of one and wait for the other's forever. A nested call waits
	// a moment, then fails as busy.
	wait, cancel := context.WithTimeout(context.Background(), nestedQueryWait)
	defer cancel()
	return p.m.callWaiting(wait, p.ctx, lc, vm.Call{Mode: vm.Query, Caller: caller[:], Height: p.ctx.Height, Time: p.ctx.Time.UnixNano(),
		Input: input, GasLimit: gas, Balance: lc.c.Balance, Depth: depth, Peers: p})
}

// nestedQueryWait bounds how long a query_contract call waits for a free
// query reactor of the contract it calls.
const nestedQueryWait = 200 * time.Millisecond

// reachable is the running contract of cluster that id names, or nil.
func (m *Module) reachable(cluster string, id []byte) *liveContract {
	var h contractsapi.Hash
	if len(id) != len(h) {
		return nil
	}
	copy(h[:], id)
	lc := m.live[h]
	if lc == nil || lc.c.Cluster != cluster || !lc.c.running() {
		return nil
	}
	return lc
}

// byAccount is the contract of cluster whose account a is, or nil.
func (m *Module) byAccount(cluster string, a address.Address) *liveContract {
	id, ok := m.accounts[a]
	if !ok {
		return nil
	}
	if lc := m.live[id]; lc != nil && lc.c.Cluster == cluster {
		return lc
	}
	return nil
}
