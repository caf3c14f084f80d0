package contracts_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
)

// withTimeouts sets the module's timeouts in the genesis.
func withTimeouts(results, upload uint64) apptest.Option {
	return apptest.WithGenesis(func(g *app.Genesis) {
		p := contractsapi.DefaultParams()
		p.ResultsTimeout, p.UploadTimeout = results, upload
		raw, _ := json.Marshal(contractsapi.Genesis{Params: p})
		g.Modules[contractsapi.Name] = raw
	})
}

// blocksUntil commits empty blocks until the chain is at height h (at
// least one) and returns the last block's response; every expiry event on
// the way goes to seen.
func blocksUntil(n *net, h int64, seen ...*[]abci.Event) *abci.FinalizeBlockResponse {
	n.T.Helper()
	resp := n.Block()
	for {
		for _, s := range seen {
			*s = append(*s, resp.Events...)
		}
		if n.Height >= h {
			return resp
		}
		resp = n.Block()
	}
}

func blockEvent(resp *abci.FinalizeBlockResponse, kind string) (map[string]string, bool) {
	for _, e := range resp.Events {
		if e.Type != kind {
			continue
		}
		attrs := map[string]string{}
		for _, a := range e.Attributes {
			attrs[a.Key] = a.Value
		}
		return attrs, true
	}
	return nil, false
}

// TestUnsettledCommandsExpire: a block's commands whose results never
// arrive get their whole reserve back at the end of block h + timeout
// (not before), with an event; the escrow is back where it started;
// results for that block are refused afterwards and move nothing. A block
// settled in time does not expire.
func TestUnsettledCommandsExpire(t *testing.T) {
	const timeout = 3
	rn := newResultsNet(t, withTimeouts(timeout, 1000))
	p := rn.params()
	if p.ResultsTimeout != timeout {
		t.Fatalf("params %+v", p)
	}
	escrow0 := balance(rn.net, contractsapi.Escrow)
	settledH, settledSeqs := rn.commands(1_000)
	if ev := rn.report(rn.w1, results(settledH, settledSeqs, 10)); !apptest.HasEvent(ev, contractsapi.EventSettled) {
		t.Fatalf("not settled: %v", apptest.Rejection(ev))
	}
	h, seqs := rn.commands(1_000_000, 2_000_000)
	bob := balance(rn.net, apptest.Bob.Addr)
	reserved := mustMul(t, p.GasPrice, 3_000_000)
	if got := mustSub(t, balance(rn.net, contractsapi.Escrow), escrow0); got != reserved {
		t.Fatalf("escrow holds %s more, want %s", got.PHAString(), reserved.PHAString())
	}
	var events []abci.Event
	resp := blocksUntil(rn.net, h+timeout-1, &events)
	if _, ok := blockEvent(resp, contractsapi.EventExpired); ok || balance(rn.net, apptest.Bob.Addr) != bob {
		t.Fatalf("expired before its time (height %d)", rn.Height)
	}
	resp = rn.Block()
	attrs, ok := blockEvent(resp, contractsapi.EventExpired)
	if !ok || attrs["commands"] != "2" || attrs["cluster"] != "default" || attrs["refunded"] != reserved.String() {
		t.Fatalf("block %d: no expiry of block %d: %v", rn.Height, h, resp.Events)
	}
	if got := mustSub(t, balance(rn.net, apptest.Bob.Addr), bob); got != reserved {
		t.Fatalf("bob got back %s, want %s", got.PHAString(), reserved.PHAString())
	}
	if got := balance(rn.net, contractsapi.Escrow); got != escrow0 {
		t.Fatalf("escrow holds %s, held %s before", got.PHAString(), escrow0.PHAString())
	}
	for _, s := range append(seqs, settledSeqs...) {
		if raw, _ := rn.App.Store().Get(contractsapi.PendingCommandKeyOf(s)); raw != nil {
			t.Fatalf("command %d still pending", s)
		}
	}
	// Late results: refused cleanly, nothing moves.
	bob = balance(rn.net, apptest.Bob.Addr)
	if ev := rn.report(rn.w1, results(h, seqs, 10, 10)); !errors.Is(apptest.Rejection(ev), contractsapi.ErrResultsExpired) {
		t.Fatalf("late results: %v", apptest.Rejection(ev))
	}
	if balance(rn.net, apptest.Bob.Addr) != bob || balance(rn.net, contractsapi.Escrow) != escrow0 {
		t.Fatal("late results moved funds")
	}
	// The settled block never expired: only block h did.
	blocksUntil(rn.net, rn.Height+timeout, &events)
	events = append(events, resp.Events...)
	for _, e := range events {
		if e.Type == contractsapi.EventExpired && e.Attributes[0].Value != fmtHeight(h) {
			t.Fatalf("block %d was settled, yet expired: %v", settledH, e)
		}
	}
}

func fmtHeight(h int64) string { return strconv.FormatInt(h, 10) }

// TestResultsInTheLastBlockSettle: results landing in the block where the
// commands would expire settle them; the end of that block then finds
// nothing to expire.
func TestResultsInTheLastBlockSettle(t *testing.T) {
	const timeout = 2
	rn := newResultsNet(t, withTimeouts(timeout, 1000))
	h, seqs := rn.commands(1_000)
	blocksUntil(rn.net, h+timeout-1)
	msg := apptest.Egress(rn.w1, rn.EgressSeq(rn.w1)+1, contractsapi.TopicResults, codec.MustMarshal(results(h, seqs, 5)))
	resp := rn.Block(rn.Submit(apptest.Alice, msg))
	if rn.Height != h+timeout || !apptest.HasEvent(resp.TxResults[0].Events, contractsapi.EventSettled) {
		t.Fatalf("height %d: %v", rn.Height, apptest.Rejection(resp.TxResults[0].Events))
	}
	if _, ok := blockEvent(resp, contractsapi.EventExpired); ok {
		t.Fatalf("settled commands expired too: %v", resp.Events)
	}
}

// TestUnfinishedUploadExpires: an upload not finished within the timeout
// is dropped at the end of block start + timeout, with an event and a
// message telling the workers; its fees are not refunded; the uploader
// must start again at offset 0. A restart at offset 0 restarts the clock,
// and a finished upload is never dropped.
func TestUnfinishedUploadExpires(t *testing.T) {
	const timeout = 3
	n := newNet(t, withTimeouts(1000, timeout))
	code, h := testCode(3000, 4)
	parts := chunks(code, h, 1000)
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0]))
	started := n.Height
	// A restart at offset 0 two blocks later moves the deadline.
	blocksUntil(n, started+1)
	n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[0]))
	restarted := n.Height
	resp := blocksUntil(n, started+timeout)
	if n.Height != started+timeout {
		t.Fatalf("height %d", n.Height)
	}
	if _, ok := blockEvent(resp, contractsapi.EventUploadExpired); ok {
		t.Fatal("dropped by the first attempt's deadline")
	}
	alice := balance(n, apptest.Alice.Addr)
	resp = blocksUntil(n, restarted+timeout)
	attrs, ok := blockEvent(resp, contractsapi.EventUploadExpired)
	if !ok || attrs["code_hash"] != h.String() || attrs["received"] != "1000" || attrs["uploader"] != apptest.Alice.Addr.String() {
		t.Fatalf("block %d: no upload expiry: %v", n.Height, resp.Events)
	}
	if balance(n, apptest.Alice.Addr) != alice {
		t.Fatal("the upload's fees were refunded")
	}
	dropped := n.Published(contractsapi.TopicUploadDropped)
	if len(dropped) != 1 {
		t.Fatalf("published %d drops", len(dropped))
	}
	if d, err := contractsapi.DecodeUploadDropped(dropped[0]); err != nil || d.CodeHash != h || d.Uploader != apptest.Alice.Addr {
		t.Fatalf("drop %+v (%v)", d, err)
	}
	var up contractsapi.PendingUpload
	if err := n.Query(contractsapi.QueryUpload, codec.MustMarshal(contractsapi.UploadQuery{Uploader: apptest.Alice.Addr, CodeHash: h}), &up); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("upload after expiry: %+v (%v)", up, err)
	}
	n.MustRefuseCharged(n.Tx(apptest.Alice, contractsapi.MethodUpload, parts[1]), contractsapi.ErrUploadOrder)
	// Uploaded in time, it stays.
	for _, u := range parts {
		n.MustSucceed(n.Tx(apptest.Alice, contractsapi.MethodUpload, u))
	}
	resp = blocksUntil(n, n.Height+timeout+1)
	if _, ok := blockEvent(resp, contractsapi.EventUploadExpired); ok {
		t.Fatal("a finished upload expired")
	}
	var c contractsapi.Code
	if err := n.Query(contractsapi.QueryCode, h[:], &c); err != nil || c.Size != 3000 {
		t.Fatalf("code %+v (%v)", c, err)
	}
	if got := len(n.Published(contractsapi.TopicUploadDropped)); got != 0 {
		t.Fatalf("%d drops in the last block", got)
	}
}

// TestTimeoutParamsValidated: a genesis with a zero or huge timeout is
// refused.
func TestTimeoutParamsValidated(t *testing.T) {
	for _, tc := range []struct {
		name            string
		results, upload uint64
	}{
		{"zero results timeout", 0, 1},
		{"zero upload timeout", 1, 0},
		{"huge results timeout", contractsapi.MaxTimeout + 1, 1},
		{"huge upload timeout", 1, contractsapi.MaxTimeout + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := contractsapi.DefaultParams()
			p.ResultsTimeout, p.UploadTimeout = tc.results, tc.upload
			if err := p.Validate(); !errors.Is(err, contractsapi.ErrParams) {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	if err := contractsapi.DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
}
