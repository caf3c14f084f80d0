package contracts_test

import (
	"crypto/hpke"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// resultsNet is a net with a keyed contract and two workers of the
// default cluster (all operated by carol) and one worker outside it.
type resultsNet struct {
	*net
	id               contractsapi.Hash
	key              hpke.PrivateKey
	w1, w2, stranger apptest.TEENode
}

func newResultsNet(t *testing.T, opts ...apptest.Option) *resultsNet {
	t.Helper()
	n := newNet(t, opts...)
	code, _ := testCode(100, 9)
	id := n.instantiate(n.upload(apptest.Alice, code), "")
	rn := &resultsNet{net: n, id: id, key: n.recordKey(id)}
	rn.w1 = n.Register(apptest.Carol, registryapi.RoleWorker)
	rn.w2 = n.Register(apptest.Carol, registryapi.RoleWorker)
	rn.stranger = n.Register(apptest.Carol, registryapi.RoleWorker)
	for _, w := range []apptest.TEENode{rn.w1, rn.w2} {
		n.MustSucceed(n.Tx(apptest.Alice, keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: "default", Worker: w.Pub()}))
	}
	return rn
}

// commands sends one command per gas limit from bob in one block and
// returns the block's height and the commands' seqs.
func (rn *resultsNet) commands(limits ...uint64) (int64, []uint64) {
	return rn.valueCommands(token.Amount{}, limits...)
}

// valueCommands is commands, each sending value to the contract.
func (rn *resultsNet) valueCommands(value token.Amount, limits ...uint64) (int64, []uint64) {
	t := rn.T.(*testing.T)
	t.Helper()
	key := rn.key.PublicKey()
	var txs [][]byte
	nonce := rn.Account(apptest.Bob.Addr).Nonce
	for i, l := range limits {
		cmd := contractsapi.Command{Contract: rn.id, Generation: 1, Sealed: sealCommand(t, key, rn.id, apptest.Bob.Addr, "transfer"), GasLimit: l, Value: value}
		txs = append(txs, rn.Signed(apptest.Bob, nonce+uint64(i), contractsapi.MethodCommand, cmd))
	}
	resp := rn.Block(txs...)
	for i, r := range resp.TxResults {
		if r.Code != 0 {
			t.Fatalf("command %d: %s", i, r.Log)
		}
	}
	var seqs []uint64
	for _, raw := range rn.Published(contractsapi.TopicCommand) {
		m, err := contractsapi.DecodeCommandMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, m.Seq)
	}
	return rn.Height, seqs
}

// report has w send results and returns the mq outcome's events.
func (rn *resultsNet) report(w apptest.TEENode, r contractsapi.Results) []abci.Event {
	rn.T.Helper()
	msg := apptest.Egress(w, rn.EgressSeq(w)+1, contractsapi.TopicResults, codec.MustMarshal(r))
	resp := rn.Block(rn.Submit(apptest.Alice, msg))
	if resp.TxResults[0].Code != 0 {
		rn.T.Fatalf("submit: %s", resp.TxResults[0].Log)
	}
	return resp.TxResults[0].Events
}

func results(h int64, seqs []uint64, used ...uint64) contractsapi.Results {
	r := contractsapi.Results{Height: h, Cluster: "default"}
	for i, s := range seqs {
		st := contractsapi.StatusOK
		if used[i] == 0 {
			st = contractsapi.StatusUndecryptable
		}
		r.Commands = append(r.Commands, contractsapi.CommandResult{Seq: s, Status: st, GasUsed: used[i]})
	}
	return r
}

// TestResultsSettle: the first worker's results refund each command's
// unused gas to the sender and pay the used gas to the treasury; the
// escrow ends where it started; an identical later result is recorded as
// agreeing, a different one as a discrepancy naming its worker, and
// nothing is settled twice.
func TestResultsSettle(t *testing.T) {
	rn := newResultsNet(t)
	p := rn.params()
	escrow0 := balance(rn.net, contractsapi.Escrow)
	h, seqs := rn.commands(1_000_000, 500_000)
	if len(seqs) != 2 {
		t.Fatalf("seqs %v", seqs)
	}
	bob0, treasury0 := balance(rn.net, apptest.Bob.Addr), balance(rn.net, bankapi.Treasury)
	r := results(h, seqs, 400_000, 500_000)
	r.Roots = []contractsapi.ContractRoot{{Contract: rn.id, Root: contractsapi.Hash{1}}}
	ev := rn.report(rn.w1, r)
	if !apptest.HasEvent(ev, contractsapi.EventSettled) {
		t.Fatalf("not settled: %v (%v)", ev, apptest.Rejection(ev))
	}
	if got, want := mustSub(t, balance(rn.net, apptest.Bob.Addr), bob0), mustMul(t, p.GasPrice, 600_000); got != want {
		t.Fatalf("bob got back %s, want %s", got.PHAString(), want.PHAString())
	}
	// The treasury also got the submit transaction's fee: compare with
	// what alice paid for it.
	fee := mustSub(t, mustSub(t, balance(rn.net, bankapi.Treasury), treasury0), mustMul(t, p.GasPrice, 900_000))
	if fee.IsZero() {
		t.Fatalf("the treasury did not get the used gas and the fee")
	}
	if got := balance(rn.net, contractsapi.Escrow); got != escrow0 {
		t.Fatalf("escrow holds %s after settlement, held %s before", got.PHAString(), escrow0.PHAString())
	}
	// The same results from the second worker agree.
	if ev := rn.report(rn.w2, r); !apptest.HasEvent(ev, contractsapi.EventAgreed) {
		t.Fatalf("identical results: %v (%v)", ev, apptest.Rejection(ev))
	}
	// Again from the first: refused, nothing moves.
	bob1 := balance(rn.net, apptest.Bob.Addr)
	if ev := rn.report(rn.w1, r); !errors.Is(apptest.Rejection(ev), contractsapi.ErrResults) {
		t.Fatalf("a second report: %v", apptest.Rejection(ev))
	}
	if balance(rn.net, apptest.Bob.Addr) != bob1 {
		t.Fatal("a second report moved funds")
	}
	var set contractsapi.Settlement
	raw, err := rn.App.Store().Get(contractsapi.SettlementKeyOf(h, "default"))
	if err != nil || codec.Unmarshal(raw, &set) != nil || len(set.Agreed) != 1 || len(set.Differed) != 0 {
		t.Fatalf("settlement %+v (%v)", set, err)
	}
}

func TestResultsDiscrepancy(t *testing.T) {
	rn := newResultsNet(t)
	h, seqs := rn.commands(1_000_000)
	if ev := rn.report(rn.w1, results(h, seqs, 10)); !apptest.HasEvent(ev, contractsapi.EventSettled) {
		t.Fatalf("not settled: %v", apptest.Rejection(ev))
	}
	bob := balance(rn.net, apptest.Bob.Addr)
	ev := rn.report(rn.w2, results(h, seqs, 11))
	var named bool
	for _, e := range ev {
		if e.Type != contractsapi.EventDiscrepancy {
			continue
		}
		for _, a := range e.Attributes {
			named = named || a.Key == "worker" && a.Value == hexOf(rn.w2.Pub())
		}
	}
	if !named {
		t.Fatalf("no discrepancy event naming the worker: %v", ev)
	}
	if balance(rn.net, apptest.Bob.Addr) != bob {
		t.Fatal("a differing result moved funds")
	}
}

// TestResultsRefusals: results the chain refuses change no balance.
func TestResultsRefusals(t *testing.T) {
	rn := newResultsNet(t)
	h, seqs := rn.commands(1_000, 2_000)
	gk := rn.gk
	for _, tc := range []struct {
		name string
		from apptest.TEENode
		r    contractsapi.Results
		want error
	}{
		{"stranger worker", rn.stranger, results(h, seqs, 1, 1), contractsapi.ErrNotWorker},
		{"gatekeeper", gk, results(h, seqs, 1, 1), contractsapi.ErrNotWorker},
		{"missing command", rn.w1, results(h, seqs[:1], 1), contractsapi.ErrResults},
		{"other seqs", rn.w1, results(h, []uint64{seqs[0], seqs[1] + 5}, 1, 1), contractsapi.ErrResults},
		{"over the limit", rn.w1, results(h, seqs, 1_001, 1), contractsapi.ErrResults},
		{"block without commands", rn.w1, results(h-1, seqs, 1, 1), contractsapi.ErrResults},
		{"future height", rn.w1, results(h+100, seqs, 1, 1), contractsapi.ErrResults},
		{"unknown cluster", rn.w1, contractsapi.Results{Height: h, Cluster: "nope", Commands: results(h, seqs, 1, 1).Commands}, contractsapi.ErrNotWorker},
		{"unordered", rn.w1, results(h, []uint64{seqs[1], seqs[0]}, 1, 1), contractsapi.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bob, escrow := balance(rn.net, apptest.Bob.Addr), balance(rn.net, contractsapi.Escrow)
			ev := rn.report(tc.from, tc.r)
			if err := apptest.Rejection(ev); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if balance(rn.net, apptest.Bob.Addr) != bob || balance(rn.net, contractsapi.Escrow) != escrow {
				t.Fatal("a refused result moved funds")
			}
		})
	}
	// Still settles afterwards.
	if ev := rn.report(rn.w1, results(h, seqs, 1_000, 0)); !apptest.HasEvent(ev, contractsapi.EventSettled) {
		t.Fatalf("not settled: %v", apptest.Rejection(ev))
	}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// TestResultsValue: the first result pays each payout once, from the
// contract's account, and sends a failed command's value back to its
// sender; a new recipient's account is opened whatever the amount; an
// agreeing later result moves nothing.
func TestResultsValue(t *testing.T) {
	rn := newResultsNet(t)
	account := contractsapi.ContractAccount(rn.id)
	h, seqs := rn.valueCommands(token.PHA(5), 1_000, 1_000)
	if got := balance(rn.net, account); got != token.PHA(10) {
		t.Fatalf("contract account holds %s before settlement", got.PHAString())
	}
	payee, dust := address.Module("payee"), token.FromUint64(7) // far below the bank's minimum balance
	r := results(h, seqs, 100, 100)
	r.Commands[0].Payouts = []contractsapi.Payout{{Contract: rn.id, To: apptest.Carol.Addr, Amount: token.PHA(3)}, {Contract: rn.id, To: payee, Amount: dust}}
	r.Commands[1].Status = contractsapi.StatusReverted
	bob0, carol0 := balance(rn.net, apptest.Bob.Addr), balance(rn.net, apptest.Carol.Addr)
	ev := rn.report(rn.w1, r)
	if !apptest.HasEvent(ev, contractsapi.EventSettled) || !apptest.HasEvent(ev, contractsapi.EventPayout) || !apptest.HasEvent(ev, contractsapi.EventValueRefunded) {
		t.Fatalf("events %v (%v)", ev, apptest.Rejection(ev))
	}
	gasBack := mustMul(t, rn.params().GasPrice, 2*900)
	wantBob, _ := gasBack.Add(token.PHA(5))
	left, _ := token.PHA(2).Sub(dust)
	for _, c := range []struct {
		name      string
		got, want token.Amount
	}{
		{"bob (gas and the failed command's value back)", mustSub(t, balance(rn.net, apptest.Bob.Addr), bob0), wantBob},
		{"carol (paid)", mustSub(t, balance(rn.net, apptest.Carol.Addr), carol0), token.PHA(3)},
		{"the new payee", balance(rn.net, payee), dust},
		{"the contract's account", balance(rn.net, account), left},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got.PHAString(), c.want.PHAString())
		}
	}
	// Agreeing: recorded, nothing paid twice.
	if ev := rn.report(rn.w2, r); !apptest.HasEvent(ev, contractsapi.EventAgreed) || apptest.HasEvent(ev, contractsapi.EventPayout) {
		t.Fatalf("agreeing result: %v", ev)
	}
	if balance(rn.net, account) != left || balance(rn.net, payee) != dust {
		t.Fatal("an agreeing result paid again")
	}
}

// TestResultsOverdraft: a result whose payouts the contract's account
// cannot cover, or that pays from a contract of another cluster, is
// refused whole; the right one settles after it.
func TestResultsOverdraft(t *testing.T) {
	rn := newResultsNet(t)
	account := contractsapi.ContractAccount(rn.id)
	h, seqs := rn.valueCommands(token.PHA(1), 1_000, 1_000)
	ok := results(h, seqs, 10, 10)
	ok.Commands[1].Payouts = []contractsapi.Payout{{Contract: rn.id, To: apptest.Carol.Addr, Amount: token.PHA(2)}}
	for _, tc := range []struct {
		name string
		edit func(*contractsapi.Results)
		want error
	}{
		{"more than the account", func(r *contractsapi.Results) { r.Commands[1].Payouts[0].Amount = token.PHA(3) }, contractsapi.ErrOverdraft},
		{"the refund leaves too little", func(r *contractsapi.Results) { r.Commands[0].Status = contractsapi.StatusTrap }, contractsapi.ErrOverdraft},
		{"from an unknown contract", func(r *contractsapi.Results) { r.Commands[1].Payouts[0].Contract = contractsapi.Hash{9} }, contractsapi.ErrResults},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := results(h, seqs, 10, 10)
			r.Commands[1].Payouts = slices.Clone(ok.Commands[1].Payouts)
			tc.edit(&r)
			bob, carol := balance(rn.net, apptest.Bob.Addr), balance(rn.net, apptest.Carol.Addr)
			ev := rn.report(rn.w1, r)
			if err := apptest.Rejection(ev); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if balance(rn.net, account) != token.PHA(2) || balance(rn.net, apptest.Bob.Addr) != bob || balance(rn.net, apptest.Carol.Addr) != carol {
				t.Fatal("a refused result moved funds")
			}
		})
	}
	if ev := rn.report(rn.w1, ok); !apptest.HasEvent(ev, contractsapi.EventSettled) {
		t.Fatalf("not settled: %v", apptest.Rejection(ev))
	}
	if got := balance(rn.net, account); !got.IsZero() {
		t.Fatalf("the contract's account holds %s after paying all it had", got.PHAString())
	}
}
