//go:build unix

package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLIUsage runs the CLI with bad inputs, as a user mistyping would: each
// must exit non-zero with an "error: ..." line on stderr that says what is
// wrong, print nothing on stdout and never a Go panic, and move no funds.
func TestCLIUsage(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	url, keys := d.url(), d.info.Keyring
	alice, bob := d.info.address(t, "alice"), d.info.address(t, "bob")
	a0 := c.account(url, alice)

	// A home whose genesis.json is garbage, from a real one-validator layout.
	tn := filepath.Join(t.TempDir(), "tn")
	var layout struct {
		Homes []string `json:"homes"`
	}
	c.mustJSON(&layout, "testnet", "--validators", "1", "--out", tn,
		"--base-port", strconv.Itoa(freePortRange(t, 2)), "--output", "json")
	if len(layout.Homes) != 1 {
		t.Fatalf("testnet --validators 1 wrote %v", layout.Homes)
	}
	corrupt := layout.Homes[0]
	if err := os.WriteFile(filepath.Join(corrupt, "config", "genesis.json"), []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	dead := fmt.Sprintf("http://127.0.0.1:%d", freePorts(t, 1)[0]) // nothing listens there

	pass := "PHALA_PASSPHRASE=" + devPassphrase
	badProposal := filepath.Join(t.TempDir(), "proposal.json")
	if err := os.WriteFile(badProposal, []byte(`{"title": "t", "deposit": "10", "actions": [{"method": "registry.set_admin", "body": {}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A transaction the node refuses is not a node that did not answer.
	refused := []string{"did not answer", "is it running"}
	transfer := func(from, to, amount, node string) []string {
		return []string{"tx", "transfer", "--keyring", keys, "--from", from, "--to", to, "--amount", amount, "--node", node}
	}
	cases := []struct {
		name    string
		env     []string
		args    []string
		want    []string // all of these appear on stderr
		notWant []string // none of these does
		// typed: the message quotes what the user typed
		typed string
	}{
		{name: "transfer to an invalid address", env: []string{pass},
			args: transfer("alice", "pha1notanaddress", "1", url),
			want: []string{`"pha1notanaddress"`, "neither an address nor a key"}},
		{name: "transfer of an invalid amount", env: []string{pass},
			args: transfer("alice", bob, "abc", url), want: []string{"invalid amount"}, typed: `"abc"`},
		{name: "transfer of a negative amount", env: []string{pass},
			args: transfer("alice", bob, "-1", url), want: []string{"invalid amount"}, typed: `"-1"`},
		{name: "transfer with too many decimals", env: []string{pass},
			args: transfer("alice", bob, "1.0000000000001", url), want: []string{"invalid amount", "more than 12 decimals"}},
		{name: "transfer from an unknown key", env: []string{pass},
			args: transfer("mallory", bob, "1", url), want: []string{"mallory.key", "not found"}},
		{name: "transfer with the wrong passphrase", env: []string{"PHALA_PASSPHRASE=not-the-passphrase"},
			args: transfer("alice", bob, "1", url), want: []string{"alice.key", "wrong passphrase"}},
		{name: "transfer without a passphrase",
			args: transfer("alice", bob, "1", url), want: []string{"no passphrase", "PHALA_PASSPHRASE"}},
		{name: "transfer to an unreachable node", env: []string{pass},
			args: transfer("alice", bob, "1", dead), want: []string{dead, "did not answer", "connection refused"}},
		{name: "transfer of zero", env: []string{pass},
			args: transfer("alice", bob, "0", url), want: []string{"amount is zero"}, notWant: refused},
		{name: "transfer of more than the balance", env: []string{pass},
			args: transfer("alice", bob, "2000000000", url), want: []string{"insufficient funds"}, notWant: refused},
		{name: "transfer with a fee below the minimum", env: []string{pass},
			args: append(transfer("alice", bob, "1", url), "--fee", "1u"), want: []string{"fee below the minimum"}, notWant: refused},
		{name: "node without a home",
			args: []string{"node", "--home", empty}, want: []string{"no node home", empty}},
		{name: "node without --home",
			args: []string{"node"}, want: []string{`"home" not set`}},
		{name: "node with a corrupt genesis",
			args: []string{"node", "--home", corrupt}, want: []string{filepath.Join(corrupt, "config", "genesis.json"), "invalid"}},
		{name: "devnet over a corrupt genesis",
			args: []string{"devnet", "--home", corrupt}, want: []string{"genesis", "invalid"}},
		{name: "keys show of an unknown key",
			args: []string{"keys", "show", "nope", "--keyring", keys}, want: []string{"nope.key", "not found"}},
		{name: "keys show of an invalid name",
			args: []string{"keys", "show", "../alice", "--keyring", keys}, want: []string{"invalid key name"}},
		{name: "query tx with a malformed hash",
			args: []string{"query", "tx", "xyz", "--node", url}, want: []string{"invalid transaction hash"}},
		{name: "query tx of an unknown hash",
			args: []string{"query", "tx", strings.Repeat("00", 32), "--node", url}, want: []string{"not found"}},
		{name: "query balance of a bad address",
			args: []string{"query", "balance", "pha1nope", "--node", url}, want: []string{"neither an address nor a key"}},
		{name: "unknown command",
			args: []string{"transfer"}, want: []string{`unknown command "transfer"`}},
		{name: "vote with an unknown option", env: []string{pass},
			args: []string{"tx", "gov", "vote", "--keyring", keys, "--from", "alice", "--proposal", "1", "--option", "maybe", "--node", url},
			want: []string{"yes, no, abstain or veto"}, typed: `"maybe"`},
		{name: "proposal with an unknown method", env: []string{pass},
			args: []string{"tx", "gov", "propose", "--keyring", keys, "--from", "alice", "--file", badProposal, "--node", url},
			want: []string{`unknown method "registry.set_admin"`, "a proposal may carry", "gov.spend_treasury"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.runCtx(context.Background(), c.withEnv(tc.env...), tc.args...)
			if r.err != nil {
				t.Fatalf("did not run to completion: %v\n%s", r.err, r)
			}
			if r.code == 0 {
				t.Fatalf("exit code 0, want non-zero\n%s", r)
			}
			if hasPanic(r.stderr) || hasPanic(r.stdout) {
				t.Fatalf("printed a Go panic:\n%s", r)
			}
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("printed on stdout although it failed: %q", r.stdout)
			}
			// Progress lines may come first; the error is the last line.
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			msg := lines[len(lines)-1]
			if !strings.HasPrefix(msg, "error: ") {
				t.Errorf("stderr does not end in an \"error: ...\" line: %q", r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr does not mention %q: %q", w, msg)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("stderr says %q: %q", w, msg)
				}
			}
			if tc.typed != "" && !strings.Contains(msg, tc.typed) {
				t.Errorf("the message does not quote what the user typed (%s): %q", tc.typed, msg)
			}
		})
	}
	if a := c.account(url, alice); a.Nonce != a0.Nonce || a.Balance != a0.Balance {
		t.Errorf("failed commands moved funds: alice was %+v, now %+v", a0, a)
	}

	t.Run("transfer with an unknown --output sends nothing", func(t *testing.T) {
		before := c.account(url, alice)
		r := c.runCtx(context.Background(), c.withEnv(pass), append(transfer("alice", bob, "1", url), "--output", "yaml")...)
		if r.ok() || hasPanic(r.stderr) || !strings.Contains(r.stderr, `unknown --output "yaml"`) {
			t.Fatalf("want a non-zero exit naming the bad --output:\n%s", r)
		}
		// The CLI may have reached the node before it noticed the flag.
		// Wait for a block so a transaction it sent would show.
		c.waitHeight(d.srv, url, c.mustStatus(url).Height+2, 30*time.Second)
		if after := c.account(url, alice); after.Nonce != before.Nonce {
			t.Errorf("the transfer failed with %q but was committed (alice's nonce %d -> %d)",
				strings.TrimSpace(r.stderr), before.Nonce, after.Nonce)
		}
	})

	t.Run("keys add then show", func(t *testing.T) {
		var added, shown keyJSON
		c.mustJSONEnv(&added, []string{"PHALA_PASSPHRASE=correct horse"}, "keys", "add", "k", "--output", "json")
		c.mustJSON(&shown, "keys", "show", "k", "--output", "json")
		if added.Name != "k" || !strings.HasPrefix(added.Address, "pha1") || shown != added {
			t.Fatalf("keys add printed %+v, keys show %+v", added, shown)
		}
		if pk, err := hex.DecodeString(shown.PublicKey); err != nil || len(pk) != 32 {
			t.Errorf("public key %q is not 32 bytes of hex", shown.PublicKey)
		}
		// Without --keyring the key goes to the keyring of the client
		// config, which the devnet pointed at its own (in the test's temp
		// dir), never the user's home.
		if _, err := os.Stat(filepath.Join(keys, "k.key")); err != nil {
			t.Errorf("key file not in the devnet's keyring %s (from $PHALA_HOME/client.json): %v", keys, err)
		}
		// The new address is a valid recipient: query it.
		if a := c.account(url, shown.Address); a.Exists || a.Balance != "0" || a.Nonce != 0 {
			t.Errorf("a new key's account reads %+v, want an absent zero account", a)
		}
		r := c.runCtx(context.Background(), c.withEnv("PHALA_PASSPHRASE=other"), "keys", "add", "k")
		if r.ok() || hasPanic(r.stderr) || !strings.Contains(r.stderr, "already exists") {
			t.Errorf("adding k twice: want an \"already exists\" error\n%s", r)
		}
		c.mustJSON(&shown, "keys", "show", "k", "--output", "json")
		if shown != added {
			t.Errorf("a refused second add changed the key: %+v, was %+v", shown, added)
		}
	})

	t.Run("query supply", func(t *testing.T) {
		var s map[string]string
		c.mustJSON(&s, "query", "supply", "--node", url, "--output", "json")
		if s["total"] != totalSupply {
			t.Errorf("supply total %q, want %q (all of %v)", s["total"], totalSupply, s)
		}
		for _, k := range []string{"reward_pool", "treasury"} {
			if _, ok := s[k]; !ok {
				t.Errorf("supply output has no %q: %v", k, s)
			}
		}
	})
}
