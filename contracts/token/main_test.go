package main

import (
	"encoding/json"
	"testing"

	ct "github.com/phala-go/phala/contracts/internal/contracttest"
)

func TestMain(m *testing.M) { ct.Main(m) }

func TestToken(t *testing.T) {
	c := ct.Deploy(t)
	if _, err := c.Command("alice", "init", MintArgs{Supply: 1000}); err != nil {
		t.Fatal(err)
	}
	steps := []ct.Step{
		{"second init refused", "bob", "init", MintArgs{Supply: 5}, false, "", "already initialised"},
		{"transfer", "alice", "transfer", map[string]any{"to": ct.Addr("bob"), "amount": 300}, false, "700", ""},
		{"overdraft refused", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 301}, false, "", "insufficient balance"},
		{"zero refused", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 0}, false, "", "positive amount"},
		{"unknown field refused", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 1, "x": 1}, false, "", "unknown field"},
		{"bob pays carol", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 100}, false, "200", ""},
		{"alice reads hers", "alice", "balance", nil, true, "700", ""},
		{"bob reads his", "bob", "balance", nil, true, "200", ""},
		{"carol reads hers", "carol", "balance", nil, true, "100", ""},
		{"stranger sees zero", "mallory", "balance", nil, true, "0", ""},
		{"no balance of others", "mallory", "balance", map[string]any{"owner": ct.Addr("alice")}, true, "", "takes no arguments"},
		{"supply", "mallory", "total_supply", nil, true, "1000", ""},
	}
	c.Run(t, steps, nil)
}

func TestTransferEventSealedToParties(t *testing.T) {
	c := ct.Deploy(t)
	if _, err := c.Command("alice", "init", MintArgs{Supply: 10}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Command("alice", "transfer", map[string]any{"to": ct.Addr("bob"), "amount": 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 {
		t.Fatalf("events: %+v", res.Events)
	}
	ev := res.Events[0]
	if ev.Topic != "token.transfer" || len(ev.Audience) != 2 || string(ev.Audience[0]) != "alice" || string(ev.Audience[1]) != "bob" {
		t.Fatalf("event: %+v", ev)
	}
	var tr Transfer
	if err := json.Unmarshal(ev.Data, &tr); err != nil || tr.Amount != 4 || string(tr.To) != "bob" {
		t.Fatalf("event data %s: %v", ev.Data, err)
	}
}
