//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestQueryOutputs runs the query commands against a devnet in both
// output forms: a transfer reads back decoded from `query tx` and in its
// block's listing, and every text form is a readable summary (never JSON)
// ending in a newline.
func TestQueryOutputs(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	url := d.url()
	alice, bob := d.info.address(t, "alice"), d.info.address(t, "bob")
	sent := c.mustTransfer(d.info.Keyring, bob, url)

	t.Run("query tx shows the decoded transfer", func(t *testing.T) {
		text := c.mustText(t, "query", "tx", sent.Hash, "--node", url)
		for _, want := range []string{"result ok", "method bank.transfer", "sender " + alice, "to " + bob, "amount 1 PHA",
			fmt.Sprintf("height %d", sent.Height)} {
			if !strings.Contains(squeezeSpaces(text), want) {
				t.Errorf("query tx text lacks %q:\n%s", want, text)
			}
		}
		var got struct {
			txJSON
			Result string `json:"result"`
			Method string `json:"method"`
			Sender string `json:"sender"`
			Nonce  uint64 `json:"nonce"`
			Fee    string `json:"fee"`
			Body   struct {
				To        string `json:"to"`
				Amount    string `json:"amount"`
				AmountPHA string `json:"amount_pha"`
			} `json:"body"`
		}
		c.mustJSON(&got, "query", "tx", sent.Hash, "--node", url, "--output", "json")
		if got.Hash != sent.Hash || got.Height != sent.Height || got.Code != 0 || got.Result != "ok" ||
			got.Method != "bank.transfer" || got.Sender != alice || got.Fee == "" ||
			got.Body.To != bob || got.Body.Amount != "1000000000000" || got.Body.AmountPHA != "1 PHA" {
			t.Errorf("query tx JSON %+v does not describe the transfer of 1 PHA from %s to %s", got, alice, bob)
		}
	})

	t.Run("query block lists the transfer", func(t *testing.T) {
		h := fmt.Sprint(sent.Height)
		text := c.mustText(t, "query", "block", h, "--node", url)
		want := strings.ToUpper(sent.Hash) + " bank.transfer " + alice + " ok"
		if !strings.Contains(squeezeSpaces(text), want) {
			t.Errorf("query block %s text lacks %q:\n%s", h, want, text)
		}
		var got struct {
			Txs []struct {
				Hash, Method, Sender, Result string
			} `json:"txs"`
		}
		c.mustJSON(&got, "query", "block", h, "--node", url, "--output", "json")
		found := false
		for _, tx := range got.Txs {
			found = found || (tx.Hash == sent.Hash && tx.Method == "bank.transfer" && tx.Sender == alice && tx.Result == "ok")
		}
		if !found {
			t.Errorf("query block %s JSON does not list the transfer %s: %+v", h, sent.Hash, got.Txs)
		}
	})

	t.Run("query policy text is not JSON", func(t *testing.T) {
		text := c.mustText(t, "query", "policy", "--node", url)
		if !strings.Contains(squeezeSpaces(text), "allow sim true") {
			t.Errorf("the devnet's policy text does not say it allows sim quotes:\n%s", text)
		}
	})

	t.Run("query gatekeepers names the devnet's gatekeeper", func(t *testing.T) {
		var got struct {
			Grants      []map[string]string `json:"grants"`
			Gatekeepers []struct {
				IdentityKey string `json:"identity_key"`
				Active      bool   `json:"active"`
			} `json:"gatekeepers"`
		}
		c.mustJSON(&got, "query", "gatekeepers", "--node", url, "--output", "json")
		if len(got.Grants) == 0 || len(got.Gatekeepers) == 0 {
			t.Fatalf("the devnet has no gatekeeper grant or gatekeeper: %+v", got)
		}
		text := c.mustText(t, "query", "gatekeepers", "--node", url)
		for _, g := range got.Grants {
			for _, v := range g {
				if !strings.Contains(text, v) {
					t.Errorf("gatekeepers text does not name the grant %s:\n%s", v, text)
				}
			}
		}
		for _, g := range got.Gatekeepers {
			if !strings.Contains(text, g.IdentityKey) {
				t.Errorf("gatekeepers text does not name the gatekeeper %s:\n%s", g.IdentityKey, text)
			}
		}
	})

	t.Run("every query's text ends in a newline", func(t *testing.T) {
		queries := [][]string{{"status"}, {"balance", alice}, {"account", alice}, {"supply"}, {"workers"}, {"worker", d.info.Worker.IdentityKey},
			{"gatekeepers"}, {"policy"}, {"block"}, {"tx", sent.Hash}, {"master-key"}, {"clusters"}}
		if d.info.Cluster != nil {
			queries = append(queries, []string{"cluster", d.info.Cluster.ID})
		}
		for _, q := range queries {
			c.mustText(t, append(append([]string{"query"}, q...), "--node", url)...)
		}
	})
}

// mustText runs a command that must succeed in text form and returns its
// stdout, which must be text (not JSON) ending in exactly one newline.
func (c *cli) mustText(t *testing.T, args ...string) string {
	t.Helper()
	r := c.run(args...)
	if !r.ok() || hasPanic(r.stderr) {
		t.Fatalf("command failed: %s", r)
	}
	out := r.stdout
	if !strings.HasSuffix(out, "\n") || strings.HasSuffix(out, "\n\n") {
		t.Errorf("phala %s: text output does not end in exactly one newline: %q", strings.Join(args, " "), out)
	}
	if trimmed := strings.TrimSpace(out); json.Valid([]byte(trimmed)) && strings.IndexAny(trimmed, "{[") == 0 {
		t.Errorf("phala %s: text output is JSON:\n%s", strings.Join(args, " "), out)
	}
	return out
}

var spaces = regexp.MustCompile(` +`)

// squeezeSpaces collapses runs of spaces, so checks do not depend on how
// wide a text output's label column is.
func squeezeSpaces(s string) string { return spaces.ReplaceAllString(s, " ") }
