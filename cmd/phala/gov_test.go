package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/gov/govapi/actions"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// TestGovProposeTemplates: --print-template writes each kind's example,
// which parses as a proposal; an unknown kind names the known ones.
func TestGovProposeTemplates(t *testing.T) {
	for _, kind := range actions.TemplateKinds() {
		out, err := runPhala(t, "tx", "gov", "propose", "--print-template", kind)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		f, err := actions.ParseFile([]byte(out))
		if err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, out)
		}
		if _, err := f.Propose(); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	if _, err := runPhala(t, "tx", "gov", "propose", "--print-template", "spend"); err == nil || !strings.Contains(err.Error(), "treasury-spend") {
		t.Fatalf("unknown template: %v", err)
	}
}

// TestGovProposeRefusedLocally: a bad proposal file is refused before any
// key is opened or node contacted (neither exists here).
func TestGovProposeRefusedLocally(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"title": "t", "deposit": "10", "actions": [{"method": "keys.rotate", "body": {}}]}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown method", []string{"--file", write("m.json", `{"title": "t", "deposit": "10", "actions": [{"method": "registry.set_admin", "body": {}}]}`)}, `actions[0]: unknown method "registry.set_admin" (a proposal may carry: bank.set_params`},
		{"unknown field", []string{"--file", write("f.json", `{"title": "t", "deposit": "10", "actions": [{"method": "gov.schedule_upgrade", "body": {"name": "v2", "height": 9, "hieght": 9}}]}`)}, `unknown field "hieght"`},
		{"bad deposit flag", []string{"--file", good, "--deposit", "ten"}, `deposit: invalid amount "ten"`},
		{"empty title flag", []string{"--file", good, "--title", ""}, "title: missing"},
		{"no file", []string{}, "--from and --file are required"},
		{"missing file", []string{"--file", filepath.Join(dir, "none.json")}, "none.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"tx", "gov", "propose", "--from", "nobody", "--keyring", dir, "--node", "http://127.0.0.1:1"}, c.args...)
			if c.name == "no file" {
				args = []string{"tx", "gov", "propose"}
			}
			_, err := runPhala(t, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestParseVoteOptionAndStatus(t *testing.T) {
	for s, want := range map[string]govapi.Option{"yes": govapi.OptionYes, "No": govapi.OptionNo, "abstain": govapi.OptionAbstain, "VETO": govapi.OptionVeto} {
		if o, err := parseOption(s); err != nil || o != want {
			t.Errorf("%s: %v %v", s, o, err)
		}
	}
	if _, err := parseOption("maybe"); err == nil || !strings.Contains(err.Error(), "yes, no, abstain or veto") {
		t.Errorf("maybe: %v", err)
	}
	if st, err := parseStatus("no_quorum"); err != nil || st != govapi.StatusNoQuorum {
		t.Errorf("no_quorum: %v %v", st, err)
	}
	if _, err := parseStatus("open"); err == nil || !strings.Contains(err.Error(), "deposit, voting, passed") {
		t.Errorf("open: %v", err)
	}
	for _, s := range []string{"0", "-1", "x"} {
		if _, err := parseProposalID(s); err == nil {
			t.Errorf("proposal %q accepted", s)
		}
	}
}

// TestTallyOutcome: the shares and the outcome follow governance's rules
// at their edges (quorum and veto reached at equality, the threshold only
// when exceeded).
func TestTallyOutcome(t *testing.T) {
	p := govapi.DefaultParams() // quorum 33.4%, threshold 50%, veto 33.4%
	pha := func(n uint64) token.Amount { return token.PHA(n) }
	cases := []struct {
		name                string
		yes, no, abst, veto uint64
		want                string
	}{
		{"nobody voted", 0, 0, 0, 0, "no_quorum"},
		{"below quorum", 333, 0, 0, 0, "no_quorum"},
		{"quorum at equality, all yes", 334, 0, 0, 0, "passed"},
		{"abstain counts toward quorum only", 1, 0, 333, 0, "passed"},
		{"half yes is not more than half", 200, 200, 0, 0, "rejected"},
		{"just over half", 201, 200, 0, 0, "passed"},
		{"veto at its threshold", 666, 0, 0, 334, "vetoed"},
		{"veto below it", 667, 0, 0, 333, "passed"},
		{"veto counts among the decided", 400, 300, 0, 100, "rejected"},
		{"only abstain", 0, 0, 500, 0, "rejected"},
	}
	for _, c := range cases {
		tally := govapi.Tally{Yes: pha(c.yes), No: pha(c.no), Abstain: pha(c.abst), Veto: pha(c.veto), Eligible: pha(1000)}
		if got := tallyOutcome(tally, p); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	out := tallyOut(govapi.Tally{Yes: pha(300), No: pha(100), Abstain: pha(100), Eligible: pha(1000), Voters: 3}, &p, true)
	if out.Turnout != "50%" || out.YesShare != "75%" || out.OfEligible["yes"] != "30%" || out.OfDecided["no"] != "25%" || out.VetoShare != "0%" || out.Quorum != "33.4%" {
		t.Errorf("shares %+v", out)
	}
	if text := tallyText(out, "tally"); !strings.Contains(text, "75% (threshold, more than 50%)") || !strings.Contains(text, "counted now") {
		t.Errorf("tally text:\n%s", text)
	}
}

// TestProposalView: a stored proposal shows its actions as JSON, its
// periods with what remains of them, and an action this client cannot
// read in hex with the reason.
func TestProposalView(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	change := codec.MustMarshal(module.ParamChange{Changes: []module.ParamValue{{Path: "answer_window", Value: json.RawMessage(`20000000000`)}}})
	p := govapi.Proposal{
		ID: 7, Title: "Longer answers", Description: "Why.\nBecause.", Status: govapi.StatusVoting,
		SubmitHeight: 10, SubmitTime: now.Add(-time.Minute).UnixNano(), DepositEnd: now.Add(time.Hour).UnixNano(),
		VotingStart: now.Add(-time.Minute).UnixNano(), VotingEnd: now.Add(90 * time.Second).UnixNano(), TotalDeposit: token.PHA(10),
		Actions: []govapi.Action{{Method: "compute.set_params", Body: change}, {Method: "future.thing", Body: []byte{1, 2}}},
	}
	params := govapi.DevnetParams()
	cur := govapi.Tally{Yes: token.PHA(5), Eligible: token.PHA(10)}
	out := proposalOut(govapi.ProposalInfo{Proposal: p, Current: &cur}, &params, now)
	if out.Remaining != "in 1m30s" || out.Status != "voting" || out.Current == nil || out.Tally != nil || out.MinDeposit.PHA != "10" {
		t.Fatalf("view %+v", out)
	}
	if string(out.Actions[0].Body) != `{"changes":[{"path":"answer_window","value":20000000000}]}` || out.Actions[1].BodyHex != "0102" || out.Actions[1].Error == "" {
		t.Fatalf("actions %+v", out.Actions)
	}
	text := proposalText(out)
	for _, want := range []string{"proposal 7: Longer answers", "period ends  in 1m30s", "1. compute.set_params {\"changes\"", "2. future.thing body 0102", "  Because.", "counted now     passed"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if got := untilText(now.Add(-3*time.Minute).UnixNano(), now); got != "ended 3m0s ago" {
		t.Errorf("past: %s", got)
	}
}

// TestGovParamsView: every governable param with its range and its
// current value picked from the module's params JSON.
func TestGovParamsView(t *testing.T) {
	info := govapi.ParamsInfo{
		Params: govapi.DevnetParams(),
		Governable: []govapi.GovernableModule{{
			Module: "compute", Method: "compute.set_params",
			Params:  []module.ParamSpec{{Path: "answer_window", Range: "[1s, 24h]"}, {Path: "economy.cool_down", Range: "[0, 30 days]"}},
			Current: []byte(`{"answer_window": 10000000000, "economy": {"cool_down": 60000000000}}`),
		}},
	}
	out := govParamsOut(info)
	if out.MinDeposit.PHA != "10" || out.VotingPeriod != "30s" || out.Quorum != "33.4%" || out.UnsafeDevAdmin != "" {
		t.Fatalf("params %+v", out)
	}
	ps := out.Governable[0].Params
	if string(ps[0].Current) != "10000000000" || string(ps[1].Current) != "60000000000" {
		t.Fatalf("current values %s %s", ps[0].Current, ps[1].Current)
	}
	text := govParamsText(out)
	for _, want := range []string{"none: every privileged change is a proposal", "compute (action compute.set_params", "economy.cool_down  60000000000  ([0, 30 days])"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}
