package main

import (
	"bytes"
	"testing"

	ct "github.com/phala-go/phala/contracts/internal/contracttest"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/vm"
)

func TestMain(m *testing.M) { ct.Main(m) }

func TestSecretStore(t *testing.T) {
	c := ct.Deploy(t)
	alice := ct.Addr("alice")
	get := map[string]any{"owner": alice, "name": "passport"}
	steps := []ct.Step{
		ct.S("put", "alice", "put", PutArgs{"passport", "X123"}, false, "", ""),
		ct.S("owner reads", "alice", "get", get, true, `"X123"`, ""),
		ct.S("stranger denied", "bank", "get", get, true, "", "access denied"),
		ct.S("grant to missing secret", "alice", "grant", map[string]any{"name": "visa", "reader": ct.Addr("bank")}, false, "", "no such secret"),
		ct.S("only owner grants", "bank", "grant", map[string]any{"name": "passport", "reader": ct.Addr("bank")}, false, "", "no such secret"),
		ct.S("grant", "alice", "grant", map[string]any{"name": "passport", "reader": ct.Addr("bank")}, false, "", ""),
		ct.S("granted reads", "bank", "get", get, true, `"X123"`, ""),
		ct.S("others still denied", "eve", "get", get, true, "", "access denied"),
		ct.S("revoke", "alice", "revoke", map[string]any{"name": "passport", "reader": ct.Addr("bank")}, false, "", ""),
		ct.S("revoked denied", "bank", "get", get, true, "", "access denied"),
	}
	c.Run(t, steps, func(t *testing.T, s ct.Step, res vm.Result) {
		if s.Method == "grant" && (len(res.Events) != 1 || string(res.Events[0].Audience[0]) != "bank") {
			t.Fatalf("grant event: %+v", res.Events)
		}
	})
}

// TestSale: an owner prices a secret; a purchase with too little value
// reverts (the chain refunds it), one with enough gets the grant and its
// change back; proceeds accrue to the owner, who withdraws them, and the
// contract's balance follows every step.
func TestSale(t *testing.T) {
	c := ct.Deploy(t)
	alice, bank, eve := ct.Account("alice"), ct.Account("bank"), ct.Account("eve")
	hex := func(name string) string { return ct.Addr(name) }
	pha := func(n uint64) token.Amount { return token.PHA(n) }
	get := map[string]any{"owner": hex(alice), "name": "passport"}
	buy := map[string]any{"owner": hex(alice), "name": "passport"}
	steps := []ct.Step{
		ct.S("put", alice, "put", PutArgs{"passport", "X123"}, false, "", ""),
		ct.S("not for sale yet", bank, "grant", buy, false, "", "not for sale").Paying(pha(5)),
		ct.S("only the owner prices", bank, "set_price", map[string]any{"name": "passport", "price": "5000000000000"}, false, "", "no such secret"),
		ct.S("price", alice, "set_price", map[string]any{"name": "passport", "price": "5000000000000"}, false, "", ""),
		ct.S("anyone sees the price", eve, "price", get, true, `"5000000000000"`, ""),
		ct.S("too little", bank, "grant", buy, false, "", "value 3000000000000 is below the price 5000000000000").Paying(pha(3)),
		ct.S("still denied", bank, "get", get, true, "", "access denied"),
		ct.S("buy, with change", bank, "grant", buy, false, "", "").Paying(pha(7)),
		ct.S("bought reads", bank, "get", get, true, `"X123"`, ""),
		ct.S("twice", bank, "grant", buy, false, "", "already granted").Paying(pha(5)),
		ct.S("for someone else", eve, "grant", map[string]any{"owner": hex(alice), "name": "passport", "reader": hex(bank)}, false, "", "grants its buyer only").Paying(pha(5)),
		ct.S("value to a free method", alice, "grant", map[string]any{"name": "passport", "reader": hex(eve)}, false, "", "takes no value").Paying(pha(1)),
		ct.S("proceeds", alice, "proceeds", nil, true, `"5000000000000"`, ""),
		ct.S("none for others", eve, "withdraw", nil, false, "", "no proceeds"),
		ct.S("withdraw", alice, "withdraw", nil, false, `"5000000000000"`, ""),
		ct.S("withdrawn", alice, "withdraw", nil, false, "", "no proceeds"),
		ct.S("off sale", alice, "set_price", map[string]any{"name": "passport", "price": "0"}, false, "", ""),
		ct.S("not for sale again", eve, "grant", buy, false, "", "not for sale").Paying(pha(5)),
	}
	balances := map[string]token.Amount{"buy, with change": pha(5), "withdraw": {}}
	c.Run(t, steps, func(t *testing.T, s ct.Step, res vm.Result) {
		var want []vm.Payout
		switch s.Name {
		case "buy, with change":
			want = []vm.Payout{{To: []byte(bank), Amount: pha(2)}}
			if len(res.Events) != 1 || res.Events[0].Topic != "secret.granted" || string(res.Events[0].Audience[0]) != bank {
				t.Fatalf("events %+v", res.Events)
			}
		case "withdraw":
			want = []vm.Payout{{To: []byte(alice), Amount: pha(5)}}
		}
		if len(res.Payouts) != len(want) {
			t.Fatalf("payouts %+v, want %+v", res.Payouts, want)
		}
		for i, p := range res.Payouts {
			if !bytes.Equal(p.To, want[i].To) || p.Amount != want[i].Amount {
				t.Fatalf("payout %+v, want %+v", p, want[i])
			}
		}
		if b, ok := balances[s.Name]; ok && c.Balance != b {
			t.Fatalf("contract balance %s, want %s", c.Balance, b)
		}
	})
	if !c.Balance.IsZero() {
		t.Fatalf("the contract holds %s after everything was withdrawn", c.Balance)
	}
}
