package contracts_test

import (
	"crypto/hpke"
	"encoding/hex"
	"errors"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
)

// resultsNet is a net with a keyed contract and two workers of the
// default cluster (all operated by carol) and one worker outside it.
type resultsNet struct {
	*net
	id               contractsapi.Hash
	key              hpke.PrivateKey
	w1, w2, stranger apptest.TEENode
}

func newResultsNet(t *testing.T) *resultsNet {
	t.Helper()
	n := newNet(t)
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
	t := rn.T.(*testing.T)
	t.Helper()
	key := rn.key.PublicKey()
	var txs [][]byte
	nonce := rn.Account(apptest.Bob.Addr).Nonce
	for i, l := range limits {
		cmd := contractsapi.Command{Contract: rn.id, Generation: 1, Sealed: sealCommand(t, key, rn.id, apptest.Bob.Addr, "transfer"), GasLimit: l}
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
