//go:build unix

package e2e

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/crypto/address"
)

// TestGovernanceOnDevnet runs the governance scenario (govScenario) on
// `phala devnet`: one validator, a gatekeeper and two sim workers.
func TestGovernanceOnDevnet(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	govScenario(t, c, govNet{url: d.url(), keyring: d.info.Keyring, worker: d.info.Worker.IdentityKey, alive: d.srv.checkAlive})
}

// TestGovernanceOnTestnet runs the same scenario on a four-validator
// `phala testnet` whose first validator runs a gatekeeper and two sim
// workers (--tee-nodes); the proposals go through validator 3 and every
// check reads validator 1, so what executed did so on every node.
func TestGovernanceOnTestnet(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	tn := startTestnetWithTEE(t, c, 4)
	if len(tn.printed.Workers) == 0 {
		t.Fatalf("node0 printed no workers: %s", tn.nodes[0].stdoutText())
	}
	govScenario(t, c, govNet{url: tn.urls[3], readURL: tn.urls[1], keyring: filepath.Join(tn.out, "keys"), worker: tn.printed.Workers[0].IdentityKey, alive: tn.alive})
}

// govNet is where the scenario runs.
type govNet struct {
	url     string // proposals and votes go here
	readURL string // checks read here ("" = url)
	keyring string // the development keys
	worker  string // a registered sim worker's identity key (hex)
	alive   func() error
}

// govScenario submits six proposals at once and checks each outcome:
//  1. a parameter change to the challenges' answer window (the heartbeat
//     window) passes and takes effect;
//  2. a treasury spend to a fresh address passes and pays exactly once
//     (alice votes no, then yes: the latest vote counts);
//  3. a proposal alice votes down is rejected, refunds its deposit and
//     changes nothing;
//  4. a proposal alice vetoes burns its deposit;
//  5. a proposal only carol votes on (she holds PHA and delegates 1,000 PHA
//     to a pool) misses the quorum, and its tally weighs her balance plus
//     her delegation exactly: each unit once;
//  6. an attestation policy that refuses sim quotes passes, and the sim
//     worker is deactivated at the end of the block that executed it.
//
// The total supply never changes; the burned account holds exactly the two
// burned deposits.
func govScenario(t *testing.T, c *cli, n govNet) {
	if n.readURL == "" {
		n.readURL = n.url
	}
	env := c.withEnv("PHALA_PASSPHRASE=" + devPassphrase)
	run := func(v any, args ...string) {
		t.Helper()
		args = append(args, "--node", n.url, "--keyring", n.keyring, "--output", "json")
		r := c.runCtx(t.Context(), env, args...)
		if err := r.decode(v); err != nil {
			t.Fatal(err)
		}
	}
	read := func(v any, args ...string) {
		t.Helper()
		c.mustJSON(v, append(args, "--node", n.readURL, "--output", "json")...)
	}
	var gp struct {
		MinDeposit struct {
			Units string `json:"units"`
		} `json:"min_deposit"`
		VotingPeriod string `json:"voting_period"`
		Quorum       string `json:"quorum"`
	}
	read(&gp, "query", "gov", "params")
	minDeposit := parseUnits(t, gp.MinDeposit.Units)
	votingPeriod, err := time.ParseDuration(gp.VotingPeriod)
	if err != nil {
		t.Fatalf("voting_period %q: %v", gp.VotingPeriod, err)
	}
	supplyBefore := c.supply(n.readURL)

	// Carol's stake in a pool of her own.
	var pool struct {
		Pool uint64 `json:"pool"`
	}
	run(&pool, "tx", "pool", "create", "--from", "carol", "--commission", "10%")
	run(&struct{}{}, "tx", "pool", "delegate", "--from", "carol", "--pool", strconv.FormatUint(pool.Pool, 10), "--amount", "1000")

	// A fresh devnet's treasury holds only its first fees: alice funds it.
	run(&struct{}{}, "tx", "transfer", "--from", "alice", "--to", bankapi.Treasury.String(), "--amount", "10")
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	payee := address.FromPublicKey(pub).String()
	deposit := minDeposit.String() + "u"
	change := func(module, path string, value any) string {
		v, _ := json.Marshal(value)
		return fmt.Sprintf(`{"method": %q, "body": {"changes": [{"path": %q, "value": %s}]}}`, module+".set_params", path, v)
	}
	proposals := []struct {
		from, title, action string
	}{
		{"alice", "answer window 15 s", change("compute", "answer_window", "15s")},
		{"alice", "pay a new account 5 PHA", fmt.Sprintf(`{"method": "gov.spend_treasury", "body": {"to": %q, "amount": "5"}}`, payee)},
		{"alice", "a higher quorum, voted down", change("gov", "quorum", 400_000)},
		{"bob", "fewer workers a pool, vetoed", change("pools", "max_workers", 100)},
		{"carol", "carol alone", ""},
		{"alice", "no sim quotes", `{"method": "registry.set_policy", "body": {"policy": {"allow_sim": false}}}`},
	}
	ids := make([]string, len(proposals))
	dir := t.TempDir()
	for i, p := range proposals {
		actions := "[]"
		if p.action != "" {
			actions = "[" + p.action + "]"
		}
		file := filepath.Join(dir, fmt.Sprintf("p%d.json", i))
		text := fmt.Sprintf(`{"title": %q, "description": "e2e", "deposit": %q, "actions": %s}`, p.title, deposit, actions)
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		var sent struct {
			Proposal uint64 `json:"proposal"`
			Status   string `json:"status"`
		}
		run(&sent, "tx", "gov", "propose", "--from", p.from, "--file", file)
		if sent.Status != "voting" {
			t.Fatalf("proposal %q is %q after a deposit of min_deposit, want voting", p.title, sent.Status)
		}
		ids[i] = strconv.FormatUint(sent.Proposal, 10)
	}
	votes := []struct{ from, id, option string }{
		{"alice", ids[0], "yes"},
		{"alice", ids[1], "no"}, {"alice", ids[1], "yes"}, // the latest counts
		{"alice", ids[2], "no"},
		{"alice", ids[3], "veto"},
		{"carol", ids[4], "yes"},
		{"alice", ids[5], "yes"},
	}
	for _, v := range votes {
		run(&struct{}{}, "tx", "gov", "vote", "--from", v.from, "--proposal", v.id, "--option", v.option)
	}
	// Carol sends nothing more: her balance at the tally is her balance now.
	carolNow := c.account(n.readURL, addressOf(t, c, n.keyring, "carol")).balance(t)

	ended := make([]govProposal, len(ids))
	waitFor(t, votingPeriod+2*time.Minute, "every proposal to end", func() (bool, string, error) {
		if err := n.alive(); err != nil {
			return false, "", err
		}
		for i, id := range ids {
			read(&ended[i], "query", "gov", "proposal", id)
			if ended[i].Status == "voting" {
				return false, fmt.Sprintf("proposal %s still voting", id), nil
			}
		}
		return true, "", nil
	})
	for i, want := range []string{"passed", "passed", "rejected", "vetoed", "no_quorum", "passed"} {
		if ended[i].Status != want {
			t.Errorf("proposal %q: %s (%s), want %s", proposals[i].title, ended[i].Status, ended[i].Outcome, want)
		}
	}

	// 1. The answer window is 15 s.
	var cp struct {
		AnswerWindow int64 `json:"answer_window"`
	}
	read(&cp, "query", "compute-params")
	if time.Duration(cp.AnswerWindow) != 15*time.Second {
		t.Errorf("answer_window is %v after the proposal passed, want 15s", time.Duration(cp.AnswerWindow))
	}
	// 2. Paid once: 5 PHA now and still 5 PHA three blocks later.
	five := parseUnits(t, "5000000000000")
	if got := c.account(n.readURL, payee).balance(t); got.Cmp(five) != 0 {
		t.Errorf("the payee holds %s, want 5 PHA", got)
	}
	c.waitHeight(nil, n.readURL, ended[1].EndHeight+3, 30*time.Second)
	if got := c.account(n.readURL, payee).balance(t); got.Cmp(five) != 0 {
		t.Errorf("the payee holds %s three blocks later, want 5 PHA", got)
	}
	// 3. Rejected: the quorum is as it was.
	quorum := gp.Quorum
	read(&gp, "query", "gov", "params")
	if gp.Quorum != quorum {
		t.Errorf("quorum is %s after a rejected proposal to change it, was %s", gp.Quorum, quorum)
	}
	// 4 and 5. Two deposits burned, no PHA created or lost.
	after := c.supply(n.readURL)
	burned := new(big.Int).Sub(parseUnits(t, after.Burned), parseUnits(t, supplyBefore.Burned))
	if want := new(big.Int).Mul(minDeposit, big.NewInt(2)); burned.Cmp(want) != 0 {
		t.Errorf("%s burned by the vetoed and the quorum-less proposal, want %s", burned, want)
	}
	if after.Total != supplyBefore.Total {
		t.Errorf("total supply %s, was %s", after.Total, supplyBefore.Total)
	}
	// 5. Carol's weight: her balance plus her delegation, once.
	wantWeight := new(big.Int).Add(carolNow, parseUnits(t, "1000000000000000"))
	if got := parseUnits(t, ended[4].Tally.Yes.Units); got.Cmp(wantWeight) != 0 {
		t.Errorf("carol's vote weighed %s, want her balance %s + 1000 PHA delegated = %s", got, carolNow, wantWeight)
	}
	// 6. The sim worker was deactivated by the block that ran the policy.
	var node struct {
		Active bool   `json:"active"`
		Reason string `json:"reason"`
	}
	read(&node, "query", "worker", n.worker)
	if node.Active {
		t.Errorf("the sim worker is still active after the policy refusing sim quotes passed")
	}
	res := rpcGet(t, t.Context(), n.readURL, "block_results", ended[5].EndHeight)
	if !strings.Contains(string(res), "node_deactivated") || !strings.Contains(string(res), n.worker) {
		t.Errorf("block %d, which ran the policy, does not deactivate worker %s: %s", ended[5].EndHeight, n.worker, res)
	}
	t.Logf("six proposals ended as expected; worker %s deactivated in block %d (%s)", n.worker[:8], ended[5].EndHeight, node.Reason)
}

// govProposal is what the scenario reads of `phala query gov proposal`.
type govProposal struct {
	Status    string `json:"status"`
	Outcome   string `json:"outcome"`
	EndHeight int64  `json:"end_height"`
	Tally     struct {
		Yes struct {
			Units string `json:"units"`
		} `json:"yes"`
	} `json:"tally"`
}

// addressOf is a development key's address.
func addressOf(t *testing.T, c *cli, keyring, name string) string {
	t.Helper()
	var k struct {
		Address string `json:"address"`
	}
	c.mustJSON(&k, "keys", "show", name, "--keyring", keyring, "--output", "json")
	return k.Address
}
