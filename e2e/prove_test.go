//go:build unix

package e2e

import (
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/internal/rpctest"
	"github.com/phala-go/phala/token"
)

type provenAccountJSON struct {
	Value    accountJSON `json:"value"`
	Verified struct {
		Found        bool   `json:"found"`
		Height       int64  `json:"height"`
		HeaderHeight int64  `json:"header_height"`
		HeaderHash   string `json:"header_hash"`
		AppHash      string `json:"app_hash"`
		TrustHeight  int64  `json:"trust_height"`
		SelfWitness  bool   `json:"self_witness"`
	} `json:"verified"`
}

// TestProvenQueries: with a trust root taken from the devnet once, the
// CLI proves balances, accounts, their absence, a worker's absence and the
// policy; through a proxy that alters abci_query answers it refuses each
// forgery with a message naming what did not hold.
func TestProvenQueries(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c, "--no-worker")
	url := d.url()
	alice := d.info.address(t, "alice")
	c.mustTransfer(d.info.Keyring, d.info.address(t, "bob"), url)

	r := c.run("query", "balance", alice, "--prove")
	if r.ok() || !strings.Contains(r.stderr, "phala config trust") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Fatalf("--prove without a trust root: want one line saying how to set one:\n%s", r)
	}

	var trust struct {
		Height int64  `json:"height"`
		Hash   string `json:"hash"`
	}
	r = c.run("config", "trust", "--from-node", "--height", "1", "-o", "json")
	if err := r.decode(&trust); err != nil {
		t.Fatal(err)
	}
	if trust.Height != 1 || len(trust.Hash) != 64 || !strings.Contains(r.stderr, "TRUST ON FIRST USE") {
		t.Fatalf("config trust --from-node: %+v\n%s", trust, r)
	}

	t.Run("honest answers are proven", func(t *testing.T) {
		text := c.mustText(t, "query", "balance", alice, "--prove")
		for _, want := range []string{"verified: value at height", "signed by the trusted validator set (trust root height 1", "witness: none configured"} {
			if !strings.Contains(text, want) {
				t.Errorf("query balance --prove lacks %q:\n%s", want, text)
			}
		}
		var got provenAccountJSON
		c.mustJSON(&got, "query", "account", alice, "--prove", "-o", "json")
		v := got.Verified
		if !got.Value.Exists || got.Value.Balance == "0" || !v.Found || v.HeaderHeight != v.Height+1 || v.TrustHeight != 1 || len(v.AppHash) != 64 || !v.SelfWitness {
			t.Errorf("query account --prove: %+v", got)
		}
		nobody := address.Address{0xee}.String()
		c.mustJSON(&got, "query", "account", nobody, "--prove", "-o", "json")
		if got.Value.Exists || got.Value.Balance != "0" || got.Verified.Found {
			t.Errorf("absent account --prove: %+v", got)
		}
		if text := c.mustText(t, "query", "balance", nobody, "--prove"); !strings.Contains(text, "verified: absence") {
			t.Errorf("absent balance --prove:\n%s", text)
		}
		if text := c.mustText(t, "query", "supply", "--prove"); !strings.Contains(text, "1000000000 PHA") || !strings.Contains(text, "verified: value at height") {
			t.Errorf("supply --prove:\n%s", text)
		}
		if text := c.mustText(t, "query", "worker", strings.Repeat("ab", 32), "--prove"); !strings.Contains(text, "no node with identity key") || !strings.Contains(text, "verified: absence") {
			t.Errorf("absent worker --prove:\n%s", text)
		}
		var pol struct {
			Value    map[string]any       `json:"value"`
			Verified struct{ Found bool } `json:"verified"`
		}
		c.mustJSON(&pol, "query", "policy", "--prove", "-o", "json")
		if !pol.Verified.Found || len(pol.Value) == 0 {
			t.Errorf("policy --prove: %+v", pol)
		}
	})

	t.Run("a wrong trust root is refused", func(t *testing.T) {
		r := c.run("query", "balance", alice, "--prove", "--trust-height", "1", "--trust-hash", strings.Repeat("00", 32))
		if r.ok() || !strings.Contains(r.stderr, "trust root refused") {
			t.Fatalf("want a refusal of the trust root:\n%s", r)
		}
	})

	px, proxyURL := rpctest.StartProxy(t, url)
	aliceKey := bankapi.AccountKeyOf(mustAddress(t, alice))
	bobKey := bankapi.AccountKeyOf(mustAddress(t, d.info.address(t, "bob")))
	forgeries := []struct {
		name, want string
		alter      func(h int64, q *cometrpc.QueryResponse)
	}{
		{"forged value", "proof/2", func(_ int64, q *cometrpc.QueryResponse) {
			var e chainapi.StateEntry
			var acc bankapi.Account
			if codec.Unmarshal(q.Value, &e) != nil || codec.Unmarshal(e.Value, &acc) != nil {
				t.Error("proxy: undecodable account")
				return
			}
			acc.Balance = token.PHA(1_000_000_000)
			e.Value = codec.MustMarshal(acc)
			q.Value = codec.MustMarshal(e)
		}},
		{"proof for another key", "the proof is for key", func(h int64, q *cometrpc.QueryResponse) {
			q.ProofOps = honestAnswer(t, url, bobKey, h).ProofOps
		}},
		{"proof against another height", "the proof is for height", func(h int64, q *cometrpc.QueryResponse) {
			q.ProofOps = honestAnswer(t, url, aliceKey, h-1).ProofOps
		}},
		{"truncated proof", "malformed proof", func(_ int64, q *cometrpc.QueryResponse) {
			q.ProofOps.Ops = q.ProofOps.Ops[:1]
		}},
	}
	for _, f := range forgeries {
		t.Run(f.name, func(t *testing.T) {
			px.Set(rpctest.StateAnswers(t, f.alter))
			defer px.Set(nil)
			r := c.run("query", "balance", alice, "--prove", "--node", proxyURL)
			if r.ok() || !strings.Contains(r.stderr, f.want) || hasPanic(r.stderr) {
				t.Fatalf("want a refusal saying %q:\n%s", f.want, r)
			}
			t.Logf("refused: %s", strings.TrimSpace(r.stderr))
		})
	}
	// The proxy itself is honest when it alters nothing; as a witness it
	// is named, and the node is no longer its own.
	px.Set(nil)
	c.mustText(t, "query", "balance", alice, "--prove", "--node", proxyURL)
	text := c.mustText(t, "query", "balance", alice, "--prove", "--witness", proxyURL)
	if !strings.Contains(text, "witnesses: "+proxyURL) || strings.Contains(text, "own witness") {
		t.Errorf("query with --witness:\n%s", text)
	}
}

func mustAddress(t *testing.T, s string) address.Address {
	t.Helper()
	a, err := address.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// honestAnswer asks the node itself, for the forgeries built of true parts.
func honestAnswer(t *testing.T, node string, key []byte, height int64) *cometrpc.QueryResponse {
	c, err := cometrpc.New(node)
	if err == nil {
		var q *cometrpc.QueryResponse
		if q, err = c.ABCIQueryAt(t.Context(), chainapi.QueryState, key, height, true); err == nil {
			return q
		}
	}
	t.Errorf("proxy: %v", err)
	return &cometrpc.QueryResponse{}
}
