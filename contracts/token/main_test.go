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
		ct.S("second init refused", "bob", "init", MintArgs{Supply: 5}, false, "", "already initialised"),
		ct.S("transfer", "alice", "transfer", map[string]any{"to": ct.Addr("bob"), "amount": 300}, false, "700", ""),
		ct.S("overdraft refused", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 301}, false, "", "insufficient balance"),
		ct.S("zero refused", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 0}, false, "", "positive amount"),
		ct.S("unknown field refused", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 1, "x": 1}, false, "", "unknown field"),
		ct.S("bob pays carol", "bob", "transfer", map[string]any{"to": ct.Addr("carol"), "amount": 100}, false, "200", ""),
		ct.S("alice reads hers", "alice", "balance", nil, true, "700", ""),
		ct.S("bob reads his", "bob", "balance", nil, true, "200", ""),
		ct.S("carol reads hers", "carol", "balance", nil, true, "100", ""),
		ct.S("stranger sees zero", "mallory", "balance", nil, true, "0", ""),
		ct.S("no balance of others", "mallory", "balance", map[string]any{"owner": ct.Addr("alice")}, true, "", "takes no arguments"),
		ct.S("supply", "mallory", "total_supply", nil, true, "1000", ""),
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
