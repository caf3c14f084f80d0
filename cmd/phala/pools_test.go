package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/network"
)

// TestPoolCommandsOnDevnet runs the stake pool transactions and queries of
// the CLI against a devnet in this process, in JSON: a pool created, a
// delegation, its position, an undelegation paid at once, and refusals
// with their codes.
func TestPoolCommandsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	d := startCLIDevnet(t, nil)
	v, conn := d.v, d.conn
	keyring := []string{"--keyring", network.KeyringDir(d.home)}
	as := d.as

	out, err := runPhala(t, as("alice", "tx", "pool", "create", "--commission", "12.5%")...)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Pool    uint64 `json:"pool"`
		Account string `json:"account"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Pool == 0 || created.Account != poolsapi.Account(poolsapi.ID(created.Pool)).String() {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	pool := "1"
	worker := strings.Repeat("ab", 32)
	steps := []struct {
		name string
		args []string
		want error  // a module error the command must return
		text string // else: a substring of the error, or of the JSON output
	}{
		{"delegate", as("bob", "tx", "pool", "delegate", "--pool", pool, "--amount", "100"), nil, `"height"`},
		{"position", append([]string{"query", "position", "--pool", pool, "--delegator", "bob"}, append(keyring, conn...)...), nil, `"value": "100000000000000"`},
		{"undelegate beyond the shares", as("bob", "tx", "pool", "undelegate", "--pool", pool, "--shares", "100.000000000001"), poolsapi.ErrBeyondShares, ""},
		{"undelegate some", as("bob", "tx", "pool", "undelegate", "--pool", pool, "--shares", "40"), nil, `"height"`},
		{"positions of bob", append([]string{"query", "position", "--delegator", "bob"}, append(keyring, conn...)...), nil, `"shares": "60000000000000"`},
		{"withdraw rewards never earned", as("bob", "tx", "pool", "withdraw", "--pool", pool), poolsapi.ErrBeyondRewards, ""},
		{"delegate below the minimum", as("bob", "tx", "pool", "delegate", "--pool", pool, "--amount", "1u"), poolsapi.ErrBelowMin, ""},
		{"add an unregistered worker", as("alice", "tx", "pool", "add-worker", "--pool", pool, "--worker", worker), poolsapi.ErrUnknownWorker, ""},
		{"add a worker to another's pool", as("bob", "tx", "pool", "add-worker", "--pool", pool, "--worker", worker), poolsapi.ErrNotOwner, ""},
		{"commission above 100% refused before sending", as("alice", "tx", "pool", "set-commission", "--pool", pool, "--commission", "100.5%"), nil, "above 100%"},
		{"set the commission", as("alice", "tx", "pool", "set-commission", "--pool", pool, "--commission", "0.05"), nil, `"height"`},
		{"capacity below the stake", as("alice", "tx", "pool", "set-capacity", "--pool", pool, "--capacity", "10"), poolsapi.ErrCapacity, ""},
		{"query the pool", append([]string{"query", "pool", pool}, conn...), nil, `"commission": "5%"`},
		{"the pool's amounts in PHA too", append([]string{"query", "pool", pool}, conn...), nil, `"stake_pha": "60 PHA"`},
		{"undelegate all of no shares, refused before sending", as("carol", "tx", "pool", "undelegate", "--pool", pool, "--shares", "all"), nil, "holds no shares of pool 1"},
		{"query pools", append([]string{"query", "pools"}, conn...), nil, `"stake": "60000000000000"`},
		{"query the queue", append([]string{"query", "pool-queue", pool}, conn...), nil, `[]`},
		{"query an unknown pool", append([]string{"query", "pool", "9"}, conn...), module.ErrNotFound, ""},
		{"pool zero refused before sending", as("bob", "tx", "pool", "delegate", "--pool", "0", "--amount", "1"), nil, "from 1"},
	}
	for _, s := range steps {
		out, err := runPhala(t, s.args...)
		switch {
		case s.want != nil:
			if !errors.Is(err, s.want) {
				t.Fatalf("%s: %v, want %v", s.name, err, s.want)
			}
		case err != nil:
			if s.text == "" || !strings.Contains(err.Error(), s.text) {
				t.Fatalf("%s: %v", s.name, err)
			}
		default:
			var v any
			if json.Unmarshal([]byte(out), &v) != nil || !strings.Contains(out, s.text) {
				t.Fatalf("%s: output %q, want JSON with %s", s.name, out, s.text)
			}
		}
	}

	// In text, a transaction says what it did, in PHA and shares.
	for _, s := range []struct {
		args []string
		text string
	}{
		{[]string{"tx", "pool", "delegate", "--pool", pool, "--amount", "5"}, "delegated 5 PHA to pool 1 for 5 shares"},
		{[]string{"tx", "pool", "undelegate", "--pool", pool, "--shares", "5"}, "undelegated 5 shares of pool 1: paid 5 PHA"},
	} {
		out, err := runPhala(t, append(append(s.args, "--from", "bob", "--node", v.Node.RPCURL()), keyring...)...)
		if err != nil || !strings.Contains(out, s.text) {
			t.Fatalf("%v: %q (%v), want %q", s.args, out, err, s.text)
		}
	}
}
