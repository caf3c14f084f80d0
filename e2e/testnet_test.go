//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

type keyJSON struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	PublicKey string `json:"public_key"`
}

type blockJSON struct {
	Height  int64  `json:"height"`
	Hash    string `json:"hash"`
	AppHash string `json:"app_hash"`
}

// TestTestnetToleratesOneValidatorDown runs a four-validator testnet as four
// `phala node` processes, SIGKILLs one, checks the other three keep
// committing blocks and transfers, then restarts it and checks it catches up.
func TestTestnetToleratesOneValidatorDown(t *testing.T) {
	skipShort(t)
	const validators = 4
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "testnet")
	base := freePortRange(t, 2*validators)

	var layout struct {
		Homes   []string `json:"homes"`
		Keyring string   `json:"keyring"`
	}
	c.mustJSON(&layout, "testnet", "--validators", strconv.Itoa(validators), "--out", out,
		"--base-port", strconv.Itoa(base), "--output", "json")
	if len(layout.Homes) != validators || layout.Keyring != filepath.Join(out, "keys") {
		t.Fatalf("testnet printed %+v", layout)
	}
	keys := layout.Keyring
	var bob keyJSON
	c.mustJSON(&bob, "keys", "show", "bob", "--keyring", keys, "--output", "json")

	nodes := make([]*server, validators)
	urls := make([]string, validators)
	for i := range validators {
		home := filepath.Join(out, fmt.Sprintf("node%d", i))
		if layout.Homes[i] != home {
			t.Fatalf("home %d is %s, want %s", i, layout.Homes[i], home)
		}
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", base+2*i+1)
		nodes[i] = newServer(t, fmt.Sprintf("node%d", i), c.env, "node", "--home", home, "--output", "json")
		t.Cleanup(func() {
			if t.Failed() {
				logTail(t, filepath.Join(home, "logs", "cometbft.log"))
			}
		})
		nodes[i].start()
	}
	for i := range validators {
		c.waitHeight(nodes[i], urls[i], 3, 90*time.Second)
		var printed struct {
			ChainID string `json:"chain_id"`
			RPC     string `json:"rpc"`
		}
		if err := json.Unmarshal([]byte(nodes[i].stdoutText()), &printed); err != nil || printed.RPC != urls[i] || printed.ChainID != "phala-testnet" {
			t.Fatalf("node%d printed %q, want its rpc %s (%v)", i, nodes[i].stdoutText(), urls[i], err)
		}
	}

	// Stop the last validator hard; the other three hold 3/4 of the power.
	nodes[3].kill()
	start := c.mustStatus(urls[0]).Height
	c.waitHeight(nodes[0], urls[0], start+3, 60*time.Second)
	for i := 1; i < 3; i++ {
		if err := nodes[i].checkAlive(); err != nil {
			t.Fatal(err)
		}
	}

	b0 := c.account(urls[0], bob.Address)
	sent := c.mustTransfer(keys, bob.Address, urls[0])
	t.Logf("with node3 down: heights %d -> %d, transfer committed in block %d", start, c.mustStatus(urls[0]).Height, sent.Height)
	want := new(big.Int).Add(b0.balance(t), onePHA).String()
	// Every live validator indexes the transaction in the same block.
	for i := range 3 {
		waitFor(t, 30*time.Second, fmt.Sprintf("node%d to report the transfer", i), func() (bool, string, error) {
			got, err := c.tx(urls[i], sent.Hash)
			if err != nil {
				return false, err.Error(), nil
			}
			if got.Height != sent.Height || got.Code != 0 {
				return false, "", fmt.Errorf("node%d has the transfer as %+v, node0 reported block %d", i, got, sent.Height)
			}
			return true, "", nil
		})
		if b := c.account(urls[i], bob.Address); b.Balance != want {
			t.Fatalf("node%d: bob has %s, want %s", i, b.Balance, want)
		}
	}

	// Restart node3 from its home: it must catch up with the others.
	nodes[3].start()
	var h0, h3 int64
	waitFor(t, 90*time.Second, "node3 to catch up with node0", func() (bool, string, error) {
		for _, i := range []int{0, 3} {
			if err := nodes[i].checkAlive(); err != nil {
				return false, "", err
			}
		}
		s3, err := c.status(urls[3])
		if err != nil {
			return false, "node3: " + err.Error(), nil
		}
		s0, err := c.status(urls[0])
		if err != nil {
			return false, "", err
		}
		h0, h3 = s0.Height, s3.Height
		return h3 >= h0-2 && h3 >= sent.Height && !s3.CatchingUp,
			fmt.Sprintf("node0 at %d, node3 at %d (catching up %v)", h0, h3, s3.CatchingUp), nil
	})
	t.Logf("node3 caught up: node0 at %d, node3 at %d", h0, h3)

	if got, err := c.tx(urls[3], sent.Hash); err != nil || got.Height != sent.Height {
		t.Errorf("node3 reports the transfer as %+v (%v), want block %d", got, err, sent.Height)
	}
	bal0, bal3 := c.account(urls[0], bob.Address), c.account(urls[3], bob.Address)
	if bal3.Balance != bal0.Balance || bal0.Balance != want {
		t.Errorf("bob's balance: node0 %s, node3 %s, want %s", bal0.Balance, bal3.Balance, want)
	}
	// Same block, same state: node3 agrees with node0 on a block it
	// replayed while it was catching up.
	var blk0, blk3 blockJSON
	h := strconv.FormatInt(sent.Height+1, 10)
	c.mustJSON(&blk0, "query", "block", h, "--node", urls[0], "--output", "json")
	c.mustJSON(&blk3, "query", "block", h, "--node", urls[3], "--output", "json")
	if blk0 != blk3 {
		t.Errorf("block %s differs: node0 %+v, node3 %+v", h, blk0, blk3)
	}
	if s := c.supply(urls[3]); s.Total != totalSupply {
		t.Errorf("node3 supply total %s, want %s", s.Total, totalSupply)
	}
	// And it takes part again: the network keeps committing with node3 back.
	c.waitHeight(nodes[3], urls[3], h3+2, 60*time.Second)
}
