package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/network/endpoints"
	"github.com/phala-go/phala/node"
)

func newDevnetCmd() *cobra.Command {
	var (
		home     string
		p2p, rpc int
		noWorker bool
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a one-validator development network on loopback (resumes an existing home)",
		Long: "Run a one-validator development network on loopback (resumes an existing home).\n\n" +
			"DEVELOPMENT ONLY: alice is the chain's unsafe dev admin (gov.unsafe_dev_admin): she sets the attestation " +
			"policy, gatekeepers, clusters, the master key and params directly, with no proposal; governance votes " +
			"on a short clock (30 s deposit and voting periods, 10 PHA deposits). Sim quotes are accepted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h := node.Home(home)
			lock, err := lockHome(h, "devnet")
			if err != nil {
				return err
			}
			defer lock.Unlock()
			if err := prepareDevnetHome(h, devnetPortsOf(cmd, p2p, rpc)); err != nil {
				return explainPortInUse(err, h, true)
			}
			return explainPortInUse(runUntilSignal(h, func(v *network.Validator) (func() error, error) {
				recordDevnetClientConfig(h, v)
				if noWorker {
					return recordEndpoints(h, v, nil, nil), printDevnet(h, v, nil)
				}
				tee, err := startTEENodes(h, v)
				if err != nil {
					return nil, err
				}
				recordDevnetWorkers(v.Node.ChainID(), tee.publicURLs())
				return recordEndpoints(h, v, tee.publicURLs(), tee.stop), printDevnet(h, v, tee)
			}), h, true)
		},
	}
	cmd.Flags().BoolVar(&noWorker, "no-worker", false, "run the chain only, without the worker runtime and its relay")
	cmd.Flags().StringVar(&home, "home", defaultDir("devnet"), "home directory of the devnet (created if missing, resumed if present)")
	cmd.Flags().IntVar(&p2p, "p2p-port", 26656, "P2P port; given for an existing home, it replaces the home's port and is kept for later starts")
	cmd.Flags().IntVar(&rpc, "rpc-port", 26657, "RPC port; given for an existing home, it replaces the home's port and is kept for later starts")
	return cmd
}

type devnetJSON struct {
	ChainID    string               `json:"chain_id"`
	RPC        string               `json:"rpc"`
	Home       string               `json:"home"`
	Keyring    string               `json:"keyring"`
	Accounts   []network.DevAccount `json:"accounts"`
	Example    string               `json:"example"`
	Gatekeeper *teeNodeJSON         `json:"gatekeeper,omitempty"`
	Worker     *teeNodeJSON         `json:"worker,omitempty"` // the first of Workers
	Workers    []*teeNodeJSON       `json:"workers,omitempty"`
	Cluster    *devClusterJSON      `json:"cluster,omitempty"`
	Pools      []devPoolJSON        `json:"pools,omitempty"`
}

// devPoolJSON is a stake pool the devnet set up: its worker computes
// with Stake, delegated by devworker.Delegator.
type devPoolJSON struct {
	Pool       uint64 `json:"pool"`
	Owner      string `json:"owner"`
	Worker     string `json:"worker"`
	Score      uint64 `json:"score"`
	Session    uint64 `json:"session"`
	Stake      string `json:"stake"`
	Delegator  string `json:"delegator"`
	Delegation string `json:"delegation"`
}

type teeNodeJSON struct {
	Status string `json:"status"`
	// PublicAPI is the runtime's public API: status, attestation and
	// (workers) receipts, GET /v1/receipts/{seq}.
	PublicAPI string `json:"public_api"`
	// RelayAPI is the runtime's relay API; only its relay, holding the
	// token in the node's home, may use it.
	RelayAPI    string `json:"relay_api"`
	IdentityKey string `json:"identity_key"`
	Operator    string `json:"operator"`
	Registered  bool   `json:"registered"`
	Height      int64  `json:"height"`
}

type devClusterJSON struct {
	ID               string `json:"id"`
	PublicKey        string `json:"public_key"`
	MasterGeneration uint32 `json:"master_generation"`
	MasterPublicKey  string `json:"master_public_key"`
}

// teeStartup bounds how long the devnet waits for its TEE nodes to
// register and its cluster to get its key before it prints what it has.
const teeStartup = 2 * time.Minute

// teeNodes are the devnet's gatekeeper and workers with their relays.
type teeNodes struct {
	gatekeeper *devworker.Worker
	workers    []*devworker.Worker // in devworker.WorkerRoles order
	cluster    *devworker.ClusterInfo
	pools      []devworker.PoolSetup // where the workers compute
}

// startTEENodes starts the gatekeeper and the two workers (sim TEE) with
// their relays, waits (bounded) for them to register, sets up the default
// cluster with both workers in it, and puts each worker in a stake pool of
// its operator's that alice delegates to; each starts computing once its
// score is on chain (in the background).
func startTEENodes(h node.Home, v *network.Validator) (*teeNodes, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t := &teeNodes{}
	var err error
	if t.gatekeeper, err = devworker.Start(h, v, devworker.GatekeeperRole, log); err != nil {
		return nil, fmt.Errorf("devnet gatekeeper: %w", err)
	}
	for _, r := range devworker.WorkerRoles {
		w, err := devworker.Start(h, v, r, log)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("devnet %s: %w", r.Name, err), t.stop())
		}
		t.workers = append(t.workers, w)
	}
	fmt.Fprintf(os.Stderr, "gatekeeper and %d worker runtimes (sim TEE) started; their relays are registering them...\n", len(t.workers))
	ctx, cancel := context.WithTimeout(context.Background(), teeStartup)
	defer cancel()
	var keys []ed25519.PublicKey
	for _, w := range append([]*devworker.Worker{t.gatekeeper}, t.workers...) {
		if err := w.WaitRegistered(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "warning: %v (it keeps trying)\n", err)
			return t, nil
		}
		if w != t.gatekeeper {
			keys = append(keys, w.Runtime.Status().IdentityKey)
		}
	}
	c, err := client.New(v.Node.RPCURL())
	if err != nil {
		return t, nil
	}
	info, err := devworker.SetUpCluster(ctx, c, keys...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: default cluster: %v\n", err)
		return t, nil
	}
	t.cluster = &info
	var members []devworker.Member
	for i, k := range keys {
		members = append(members, devworker.Member{Role: devworker.WorkerRoles[i], Identity: k})
	}
	if t.pools, err = devworker.SetUpEconomy(ctx, c, members...); err != nil {
		fmt.Fprintf(os.Stderr, "warning: stake pools: %v\n", err)
	}
	return t, nil
}

func (t *teeNodes) poolsJSON() []devPoolJSON {
	if t == nil {
		return nil
	}
	var out []devPoolJSON
	for i, p := range t.pools {
		out = append(out, devPoolJSON{
			Pool: uint64(p.Pool), Owner: devworker.WorkerRoles[i].Operator, Worker: hex.EncodeToString(p.Worker), Score: p.Score,
			Session: p.Session, Stake: p.Stake.PHAString(), Delegator: devworker.Delegator, Delegation: devworker.DevDelegation.PHAString(),
		})
	}
	return out
}

// recordEndpoints writes where the validator and its workers serve into
// the home (phala demo --home finds them there) and returns the stop that
// removes the record, then stops what stop stops (nil: nothing).
func recordEndpoints(h node.Home, v *network.Validator, workers []string, stop func() error) func() error {
	err := endpoints.Write(string(h), endpoints.File{ChainID: v.Node.ChainID(), RPC: v.Node.RPCURL(), Workers: workers, PID: os.Getpid()})
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
	}
	return func() error {
		err := endpoints.Remove(string(h))
		if stop != nil {
			err = errors.Join(err, stop())
		}
		return err
	}
}

// stop stops the workers, then the gatekeeper.
func (t *teeNodes) stop() error {
	var errs []error
	for _, w := range t.workers {
		errs = append(errs, w.Stop())
	}
	return errors.Join(append(errs, t.gatekeeper.Stop())...)
}

// publicURLs are the workers' public API base URLs (receipts, status).
func (t *teeNodes) publicURLs() []string {
	var out []string
	for _, w := range t.workers {
		out = append(out, w.PublicURL())
	}
	return out
}

func teeNodeInfo(w *devworker.Worker, operatorName string) *teeNodeJSON {
	st := w.Runtime.Status()
	var operator string
	for _, a := range network.DevAccounts() {
		if a.Name == operatorName {
			operator = a.Address.String()
		}
	}
	return &teeNodeJSON{Status: w.PublicURL() + "/v1/status", PublicAPI: w.PublicURL(), RelayAPI: w.RelayURL(), IdentityKey: hex.EncodeToString(st.IdentityKey), Operator: operator, Registered: st.Registered, Height: st.Height}
}

func (t *teeNodes) json() (gk *teeNodeJSON, wks []*teeNodeJSON, cl *devClusterJSON) {
	if t == nil {
		return nil, nil, nil
	}
	gk = teeNodeInfo(t.gatekeeper, devworker.GatekeeperRole.Operator)
	for i, w := range t.workers {
		wks = append(wks, teeNodeInfo(w, devworker.WorkerRoles[i].Operator))
	}
	if c := t.cluster; c != nil {
		cl = &devClusterJSON{ID: c.Cluster, PublicKey: hex.EncodeToString(c.ClusterPublicKey), MasterGeneration: c.MasterGeneration, MasterPublicKey: hex.EncodeToString(c.MasterPublicKey)}
	}
	return gk, wks, cl
}

func printTEENode(b *strings.Builder, role string, n *teeNodeJSON) {
	if n != nil {
		fmt.Fprintf(b, "%-11s%s (registered %v, operator %s)\n  status  %s\n", role, n.IdentityKey, n.Registered, n.Operator, n.Status)
	}
}

// short abbreviates a long hex key for the text output; JSON has it whole.
func short(hexKey string) string {
	if len(hexKey) <= 24 {
		return hexKey
	}
	return fmt.Sprintf("%s…%s (%d bytes)", hexKey[:16], hexKey[len(hexKey)-8:], len(hexKey)/2)
}

func printDevnet(h node.Home, v *network.Validator, tee *teeNodes) error {
	accounts := network.DevAccounts()
	keys := network.KeyringDir(h)
	url := v.Node.RPCURL()
	nodeFlag := ""
	if url != client.DefaultNode {
		nodeFlag = " --node " + url
	}
	example := fmt.Sprintf("PHALA_PASSPHRASE=%s %s tx transfer --keyring %s --from alice --to %s --amount 10%s",
		network.DevPassphrase, selfCommand(), keys, accounts[1].Address, nodeFlag)
	out := devnetJSON{ChainID: v.Node.ChainID(), RPC: url, Home: string(h), Keyring: keys, Accounts: accounts, Example: example}
	out.Gatekeeper, out.Workers, out.Cluster = tee.json()
	out.Pools = tee.poolsJSON()
	if len(out.Workers) > 0 {
		out.Worker = out.Workers[0]
	}
	return emit(out, func() string {
		var b strings.Builder
		fmt.Fprintln(&b, "WARNING: development network: its keys are public, it protects nothing.")
		fmt.Fprintf(&b, "chain     %s\nrpc       %s\nhome      %s\n", out.ChainID, out.RPC, out.Home)
		fmt.Fprintf(&b, "accounts  (keys in %s, passphrase %q)\n", keys, network.DevPassphrase)
		for _, a := range accounts {
			fmt.Fprintf(&b, "  %-6s %s  %s\n", a.Name, a.Address, a.Purpose)
		}
		printTEENode(&b, "gatekeeper", out.Gatekeeper)
		for _, w := range out.Workers {
			printTEENode(&b, "worker", w)
		}
		if cl := out.Cluster; cl != nil {
			fmt.Fprintf(&b, "master key generation %d  %s\n", cl.MasterGeneration, short(cl.MasterPublicKey))
			fmt.Fprintf(&b, "cluster   %s  public key %s\n  (whole keys: %s query cluster %s)\n", cl.ID, short(cl.PublicKey), selfCommand(), cl.ID)
		}
		for _, p := range out.Pools {
			fmt.Fprintf(&b, "pool %d    owner %s, worker %s computing (score %d, session %d, stake %s); %s delegated %s\n",
				p.Pool, p.Owner, short(p.Worker), p.Score, p.Session, p.Stake, p.Delegator, p.Delegation)
		}
		if len(out.Pools) > 0 {
			fmt.Fprintf(&b, "  (rewards every 10 s: %s query pools; %s query position --delegator %s)\n", selfCommand(), selfCommand(), devworker.Delegator)
		}
		fmt.Fprintf(&b, "try:\n  %s\n", example)
		fmt.Fprintf(&b, "  %s query balance %s%s\n", selfCommand(), accounts[1].Address, nodeFlag)
		if tee != nil {
			homeFlag := ""
			if string(h) != defaultDir("devnet") {
				homeFlag = " --home " + string(h)
			}
			fmt.Fprintf(&b, "  %s demo%s    (the example contracts' scenarios on this devnet)\n", selfCommand(), homeFlag)
		}
		fmt.Fprint(&b, "running; Ctrl-C stops")
		return b.String()
	})
}
