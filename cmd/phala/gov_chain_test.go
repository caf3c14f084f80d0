package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/token"
)

// shortGovPeriods rewrites a devnet genesis so that a vote takes seconds:
// the deposit period stays long enough to add a deposit, the voting period
// short enough to wait for.
func shortGovPeriods(t *testing.T, home node.Home, deposit, voting time.Duration) {
	t.Helper()
	raw, err := os.ReadFile(home.GenesisFile())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(doc["app_state"], &state); err != nil {
		t.Fatal(err)
	}
	var g map[string]json.RawMessage
	if err := json.Unmarshal(state[govapi.Name], &g); err != nil {
		t.Fatal(err)
	}
	p := govapi.DevnetParams()
	p.DepositPeriod, p.VotingPeriod = deposit, voting
	if g["params"], err = json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	if state[govapi.Name], err = json.Marshal(g); err != nil {
		t.Fatal(err)
	}
	if doc["app_state"], err = json.Marshal(state); err != nil {
		t.Fatal(err)
	}
	if raw, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(home.GenesisFile(), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestGovCommandsOnDevnet runs the governance transactions and queries of
// the CLI against a devnet in this process, in JSON: a param change and a
// treasury spend proposed from files, a deposit that starts a vote, votes
// (a changed one counting), both passing and taking effect at the end of
// the voting period, and refusals with their codes.
func TestGovCommandsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	d := startCLIDevnet(t, func(home node.Home) { shortGovPeriods(t, home, time.Minute, 15*time.Second) })
	v, conn := d.v, d.conn
	as := d.as
	query := func(args ...string) []string { return append(append([]string{"query", "gov"}, args...), conn...) }
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	erin := network.DevAccounts()[4].Address
	erinBefore := balanceOf(t, conn, erin.String())

	// Governance's own voting period to 20 s: a param change the gov
	// module alone carries out (other modules' set_params come with the
	// authority change; the README's answer-window example is one).
	changeFile := file("change.json", `{"title": "Longer votes", "description": "20 s", "deposit": "10",
		"actions": [{"method": "gov.set_params", "body": {"changes": [{"path": "voting_period", "value": "20s"}]}}]}`)
	spendFile := file("spend.json", `{"title": "Pay erin", "description": "for the docs", "deposit": "1",
		"actions": [{"method": "gov.spend_treasury", "body": {"to": "`+erin.String()+`", "amount": "5"}}]}`)

	steps := []struct {
		name string
		args []string
		want error  // a module error the command must return
		text string // else: a substring of the error, or of the JSON output
	}{
		{"fund the treasury", as("carol", "tx", "transfer", "--to", bankapi.Treasury.String(), "--amount", "100"), nil, `"height"`},
		{"propose the param change at min_deposit: voting at once", as("alice", "tx", "gov", "propose", "--file", changeFile, "--deposit", "10"), nil, `"proposal": 1`},
		{"propose the spend below min_deposit: collecting deposits", as("bob", "tx", "gov", "propose", "--file", spendFile), nil, `"status": "deposit"`},
		{"the spend is in its deposit period", query("proposal", "2"), nil, `"status": "deposit"`},
		{"a deposit reaches min_deposit", as("carol", "tx", "gov", "deposit", "--proposal", "2", "--amount", "9"), nil, `"height"`},
		{"the spend is voting", query("proposal", "2"), nil, `"status": "voting"`},
		{"the change shows its action", query("proposal", "1"), nil, `"path": "voting_period"`},
		{"alice votes yes", as("alice", "tx", "gov", "vote", "--proposal", "1", "--option", "yes"), nil, `"height"`},
		{"bob votes no", as("bob", "tx", "gov", "vote", "--proposal", "1", "--option", "no"), nil, `"height"`},
		{"bob changes his mind", as("bob", "tx", "gov", "vote", "--proposal", "1", "--option", "yes"), nil, `"height"`},
		{"carol votes yes", as("carol", "tx", "gov", "vote", "--proposal", "1", "--option", "yes"), nil, `"height"`},
		{"the spend: alice", as("alice", "tx", "gov", "vote", "--proposal", "2", "--option", "yes"), nil, `"height"`},
		{"the spend: bob", as("bob", "tx", "gov", "vote", "--proposal", "2", "--option", "yes"), nil, `"height"`},
		{"the spend: carol abstains", as("carol", "tx", "gov", "vote", "--proposal", "2", "--option", "abstain"), nil, `"height"`},
		{"votes show bob's latest", query("votes", "1"), nil, `"option": "yes"`},
		{"the current tally", query("proposal", "1"), nil, `"current_tally"`},
		{"proposals voting", query("proposals", "--status", "voting"), nil, `"id": 2`},
		{"params name the governable", query("params"), nil, `"gov.set_params"`},
		{"no upgrade scheduled", query("upgrade"), nil, `"planned": null`},
		{"an unknown param fails at proposal time", as("alice", "tx", "gov", "propose", "--file", file("bad.json",
			`{"title": "t", "deposit": "10", "actions": [{"method": "gov.set_params", "body": {"changes": [{"path": "no_such", "value": 1}]}}]}`)), govapi.ErrBadAction, ""},
		{"an out-of-range value fails at proposal time", as("alice", "tx", "gov", "propose", "--file", file("range.json",
			`{"title": "t", "deposit": "10", "actions": [{"method": "gov.set_params", "body": {"changes": [{"path": "quorum", "value": 0}]}}]}`)), govapi.ErrBadAction, ""},
		{"a spend above the treasury fails at proposal time", as("alice", "tx", "gov", "propose", "--file", file("much.json",
			`{"title": "t", "deposit": "10", "actions": [{"method": "gov.spend_treasury", "body": {"to": "`+erin.String()+`", "amount": "1000000000"}}]}`)), govapi.ErrBadAction, ""},
		{"a deposit below the minimum", as("alice", "tx", "gov", "propose", "--file", spendFile, "--deposit", "0.5"), govapi.ErrDepositTooLow, ""},
		{"a vote on no proposal", as("alice", "tx", "gov", "vote", "--proposal", "99", "--option", "yes"), govapi.ErrUnknownProposal, ""},
		{"an unknown method never leaves", as("alice", "tx", "gov", "propose", "--file", file("m.json",
			`{"title": "t", "deposit": "10", "actions": [{"method": "registry.set_admin", "body": {}}]}`)), nil, "a proposal may carry"},
	}
	for _, s := range steps {
		runStep(t, s.name, s.args, s.want, s.text)
	}

	// Both proposals pass at the end of their voting period and their
	// actions run once.
	deadline := time.Now().Add(40 * time.Second)
	for _, id := range []string{"1", "2"} {
		for {
			out, err := runPhala(t, query("proposal", id)...)
			if err == nil && strings.Contains(out, `"status": "passed"`) {
				if !strings.Contains(out, `"tally"`) {
					t.Fatalf("proposal %s passed without its tally: %s", id, out)
				}
				break
			}
			if err == nil && !strings.Contains(out, `"status": "voting"`) {
				t.Fatalf("proposal %s ended otherwise: %s", id, out)
			}
			if time.Now().After(deadline) {
				t.Fatalf("proposal %s did not pass in time: %v %s", id, err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	runStep(t, "the voting period changed", query("params"), nil, `"voting_period": "20s"`)
	if got := balanceOf(t, conn, erin.String()); got.Cmp(mustAdd(t, erinBefore, token.PHA(5))) != 0 {
		t.Fatalf("erin holds %s, want %s + 5 PHA", got.PHAString(), erinBefore.PHAString())
	}
	runStep(t, "passed proposals", query("proposals", "--status", "passed"), nil, `"id": 1`)
	runStep(t, "a vote after the period", as("alice", "tx", "gov", "vote", "--proposal", "1", "--option", "no"), govapi.ErrNotVoting, "")
	out, err := runPhala(t, "query", "gov", "proposal", "1", "--node", v.Node.RPCURL())
	if err != nil || !strings.Contains(out, "status       passed") || !strings.Contains(out, "yes of decided  100%") {
		t.Fatalf("text view: %v\n%s", err, out)
	}
}

func runStep(t *testing.T, name string, args []string, want error, text string) {
	t.Helper()
	out, err := runPhala(t, args...)
	switch {
	case want != nil:
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
	case err != nil:
		if text == "" || !strings.Contains(err.Error(), text) {
			t.Fatalf("%s: %v", name, err)
		}
	default:
		var v any
		if json.Unmarshal([]byte(out), &v) != nil || !strings.Contains(out, text) {
			t.Fatalf("%s: output %q, want JSON with %s", name, out, text)
		}
	}
}

func balanceOf(t *testing.T, conn []string, who string) token.Amount {
	t.Helper()
	out, err := runPhala(t, append([]string{"query", "account", who}, conn...)...)
	if err != nil {
		t.Fatal(err)
	}
	var a accountJSON
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	b, err := token.ParseUnits(a.Balance)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAdd(t *testing.T, a, b token.Amount) token.Amount {
	t.Helper()
	s, err := a.Add(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
