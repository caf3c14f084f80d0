//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/demo"
)

// TestTestnetWithWorkersRunsContracts lays out a four-validator testnet
// (`phala testnet`), runs its validators as four `phala node` processes,
// the first with --tee-nodes (a gatekeeper and two workers in the default
// cluster, each with its relay), and runs the demo's token scenario on it
// through validator 0: the token is built, uploaded and instantiated, a
// sealed transfer's receipt is the same from both workers, balances are
// read back by signed queries from both. Another validator then shows the
// same transfer transaction, and no block carries a contracts.discrepancy
// (both workers posted equal results for every block).
func TestTestnetWithWorkersRunsContracts(t *testing.T) {
	skipShort(t)
	began := time.Now()
	c := newCLI(t)
	tn := startTestnetWithTEE(t, c, 4)
	out, urls, nodes, printed := tn.out, tn.urls, tn.nodes, tn.printed
	if printed.RPC != urls[0] || len(printed.Workers) != 2 || printed.Cluster == nil || printed.Cluster.ID != "default" {
		t.Fatalf("node0 printed %s", nodes[0].stdoutText())
	}
	t.Logf("testnet up with two workers in the default cluster after %v", time.Since(began).Round(time.Second))

	res := c.runFor(6*time.Minute, c.env, "demo", "token", "--home", filepath.Join(out, "node0"), "--output", "json")
	var rep demo.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("demo output is not its report (%v): %s", err, res)
	}
	for _, s := range rep.Steps {
		t.Log(s.Text())
	}
	if !res.ok() || !rep.OK || rep.ChainID != "phala-testnet" || len(rep.Workers) != 2 {
		t.Fatalf("the token demo on the testnet: exit %d, ok %v, chain %s, workers %v\n%s", res.code, rep.OK, rep.ChainID, rep.Workers, res.stderr)
	}
	transfer := findStep(t, rep, "alice sends bob")
	if !strings.Contains(transfer.Detail, "receipts of 2 workers agree") {
		t.Fatalf("the transfer's step: %+v", transfer)
	}

	// Validator 2 has every block the demo made; none holds a discrepancy.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	top := c.mustStatus(urls[0]).Height
	c.waitHeight(nodes[2], urls[2], top, 30*time.Second)
	for h := int64(1); h <= top; h++ {
		if res := rpcGet(t, ctx, urls[2], "block_results", h); strings.Contains(string(res), contractsapi.EventDiscrepancy) {
			t.Fatalf("block %d has a %s event: the workers' results differ:\n%s", h, contractsapi.EventDiscrepancy, res)
		}
	}
	t.Logf("token demo on 4 validators: %d steps ok, %d blocks checked on node2; %v in all", len(rep.Steps), top, time.Since(began).Round(time.Second))
}

func findStep(t *testing.T, rep demo.Report, title string) demo.Step {
	t.Helper()
	for _, s := range rep.Steps {
		if strings.Contains(s.Title, title) {
			return s
		}
	}
	t.Fatalf("no step %q in %+v", title, rep.Steps)
	return demo.Step{}
}

// teeTestnet is a `phala testnet` of validators run as `phala node`
// processes, the first with --tee-nodes.
type teeTestnet struct {
	out     string // the testnet's directory (homes, keys)
	urls    []string
	nodes   []*server
	printed struct {
		RPC     string `json:"rpc"`
		Workers []struct {
			IdentityKey string `json:"identity_key"`
		} `json:"workers"`
		Cluster *struct {
			ID string `json:"id"`
		} `json:"cluster"`
	}
}

// startTestnetWithTEE lays out a testnet, starts its validators (the first
// with a gatekeeper and two sim workers, each with its relay) and waits
// until the first has printed its TEE nodes and cluster.
func startTestnetWithTEE(t *testing.T, c *cli, validators int) *teeTestnet {
	t.Helper()
	tn := &teeTestnet{out: filepath.Join(t.TempDir(), "testnet"), urls: make([]string, validators), nodes: make([]*server, validators)}
	base := freePortRange(t, 2*validators)
	c.mustJSON(&struct{}{}, "testnet", "--validators", strconv.Itoa(validators), "--out", tn.out, "--base-port", strconv.Itoa(base),
		"--timeout-commit", "200ms", "--output", "json")
	for i := range validators {
		home := filepath.Join(tn.out, fmt.Sprintf("node%d", i))
		tn.urls[i] = fmt.Sprintf("http://127.0.0.1:%d", base+2*i+1)
		args := []string{"node", "--home", home, "--output", "json"}
		if i == 0 {
			args = append(args, "--tee-nodes")
		}
		tn.nodes[i] = newServer(t, fmt.Sprintf("node%d", i), c.env, args...)
		t.Cleanup(func() {
			if t.Failed() {
				logTail(t, filepath.Join(home, "logs", "cometbft.log"))
			}
		})
		tn.nodes[i].start()
	}
	waitFor(t, 3*time.Minute, "node0 to print its TEE nodes and cluster", func() (bool, string, error) {
		if err := tn.alive(); err != nil {
			return false, "", err
		}
		if err := json.Unmarshal([]byte(tn.nodes[0].stdoutText()), &tn.printed); err != nil {
			return false, "no JSON yet", nil
		}
		return true, "", nil
	})
	return tn
}

// alive fails if any validator exited.
func (tn *teeTestnet) alive() error {
	for _, n := range tn.nodes {
		if err := n.checkAlive(); err != nil {
			return err
		}
	}
	return nil
}
