package client

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/token"
)

// TestProposalIDOf: the id comes from the gov_proposed event only.
func TestProposalIDOf(t *testing.T) {
	ev := func(kind, key, value string) cometrpc.Event {
		return cometrpc.Event{Type: kind, Attributes: []cometrpc.EventAttribute{{Key: key, Value: value}}}
	}
	cases := []struct {
		name   string
		events []cometrpc.Event
		id     uint64
		ok     bool
	}{
		{"proposed", []cometrpc.Event{ev("transfer", "proposal", "9"), ev(govapi.EventProposed, "proposal", "12")}, 12, true},
		{"no event", []cometrpc.Event{ev("transfer", "proposal", "9")}, 0, false},
		{"garbled id", []cometrpc.Event{ev(govapi.EventProposed, "proposal", "x")}, 0, false},
	}
	for _, c := range cases {
		inc := Included{Result: &cometrpc.Tx{TxResult: cometrpc.ExecResult{Events: c.events}}}
		id, ok, _ := proposalIDOf(inc)
		if id != c.id || ok != c.ok {
			t.Errorf("%s: %d %v", c.name, id, ok)
		}
	}
	if _, ok, _ := proposalIDOf(Included{}); ok {
		t.Error("an id without a result")
	}
}

// TestDescribeGovTxs: query tx shows a proposal's actions as people write
// them, and deposits and votes with their fields.
func TestDescribeGovTxs(t *testing.T) {
	p := govapi.Propose{Title: "t", Deposit: token.PHA(10), Actions: []govapi.Action{
		{Method: keysapi.MethodCreateCluster, Body: codec.MustMarshal(keysapi.CreateCluster{ID: "eu-1"})},
		{Method: "future.thing", Body: []byte{1}},
	}}
	d := DescribeTx(signTestTx(t, govapi.MethodPropose, p))
	raw, err := json.Marshal(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"deposit_pha":"10 PHA"`, `{"method":"keys.create_cluster","body":{"id":"eu-1"}}`, `"body_hex":"01"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("propose body %s lacks %s", raw, want)
		}
	}
	d = DescribeTx(signTestTx(t, govapi.MethodVote, govapi.Vote{Proposal: 3, Option: govapi.OptionVeto}))
	if b := bodyJSON(t, d); b["option"] != "veto" || b["proposal"] != float64(3) {
		t.Errorf("vote body %v", b)
	}
	d = DescribeTx(signTestTx(t, govapi.MethodUpgrade, govapi.Plan{Name: "v2", Height: 50}))
	if b := bodyJSON(t, d); d.BodyError != "" || b["body"].(map[string]any)["name"] != "v2" {
		t.Errorf("upgrade body %v %s", b, d.BodyError)
	}
}
