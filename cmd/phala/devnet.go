package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/network/devworker"
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
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h := node.Home(home)
			if !h.Exists() {
				fmt.Fprintf(os.Stderr, "creating a new development network in %s\n", home)
				if err := network.InitDevnet(h, network.DevnetOptions{Ports: node.Ports{P2P: p2p, RPC: rpc}}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(os.Stderr, "resuming the development network in %s\n", home)
			}
			return runUntilSignal(h, func(v *network.Validator) (func() error, error) {
				if noWorker {
					return nil, printDevnet(h, v, nil)
				}
				w, err := startDevWorker(h, v)
				if err != nil {
					return nil, err
				}
				return w.Stop, printDevnet(h, v, w)
			})
		},
	}
	cmd.Flags().BoolVar(&noWorker, "no-worker", false, "run the chain only, without the worker runtime and its relay")
	cmd.Flags().StringVar(&home, "home", defaultDir("devnet"), "home directory of the devnet (created if missing, resumed if present)")
	cmd.Flags().IntVar(&p2p, "p2p-port", 26656, "P2P port (used when the home is created)")
	cmd.Flags().IntVar(&rpc, "rpc-port", 26657, "RPC port (used when the home is created)")
	return cmd
}

type devnetJSON struct {
	ChainID  string               `json:"chain_id"`
	RPC      string               `json:"rpc"`
	Home     string               `json:"home"`
	Keyring  string               `json:"keyring"`
	Accounts []network.DevAccount `json:"accounts"`
	Example  string               `json:"example"`
	Worker   *devWorkerJSON       `json:"worker,omitempty"`
}

type devWorkerJSON struct {
	Status      string `json:"status"`
	IdentityKey string `json:"identity_key"`
	Operator    string `json:"operator"`
	Registered  bool   `json:"registered"`
	Height      int64  `json:"height"`
}

// devWorkerRegistration bounds how long the devnet waits for its worker to
// register before it prints what it has.
const devWorkerRegistration = time.Minute

// startDevWorker starts the devnet's worker and relay and waits (bounded)
// for the worker's registration to land.
func startDevWorker(h node.Home, v *network.Validator) (*devworker.Worker, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := devworker.Start(h, v, log)
	if err != nil {
		return nil, fmt.Errorf("devnet worker: %w", err)
	}
	fmt.Fprintf(os.Stderr, "worker runtime (sim TEE) started; its relay is registering it...\n")
	ctx, cancel := context.WithTimeout(context.Background(), devWorkerRegistration)
	defer cancel()
	if err := w.WaitRegistered(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v (it keeps trying)\n", err)
	}
	return w, nil
}

func devWorkerInfo(w *devworker.Worker) *devWorkerJSON {
	if w == nil {
		return nil
	}
	st := w.Runtime.Status()
	var operator string
	for _, a := range network.DevAccounts() {
		if a.Name == devworker.Operator {
			operator = a.Address.String()
		}
	}
	return &devWorkerJSON{Status: w.PublicURL() + "/v1/status", IdentityKey: hex.EncodeToString(st.IdentityKey), Operator: operator, Registered: st.Registered, Height: st.Height}
}

func printDevnet(h node.Home, v *network.Validator, w *devworker.Worker) error {
	accounts := network.DevAccounts()
	keys := network.KeyringDir(h)
	url := v.Node.RPCURL()
	nodeFlag := ""
	if url != client.DefaultNode {
		nodeFlag = " --node " + url
	}
	example := fmt.Sprintf("PHALA_PASSPHRASE=%s %s tx transfer --keyring %s --from alice --to %s --amount 10%s",
		network.DevPassphrase, selfCommand(), keys, accounts[1].Address, nodeFlag)
	out := devnetJSON{ChainID: v.Node.ChainID(), RPC: url, Home: string(h), Keyring: keys, Accounts: accounts, Example: example, Worker: devWorkerInfo(w)}
	return emit(out, func() string {
		var b strings.Builder
		fmt.Fprintln(&b, "WARNING: development network: its keys are public, it protects nothing.")
		fmt.Fprintf(&b, "chain     %s\nrpc       %s\nhome      %s\n", out.ChainID, out.RPC, out.Home)
		fmt.Fprintf(&b, "accounts  (keys in %s, passphrase %q)\n", keys, network.DevPassphrase)
		for _, a := range accounts {
			fmt.Fprintf(&b, "  %-6s %s  %s\n", a.Name, a.Address, a.Purpose)
		}
		if wk := out.Worker; wk != nil {
			fmt.Fprintf(&b, "worker    %s (registered %v, operator %s %s)\n", wk.IdentityKey, wk.Registered, devworker.Operator, wk.Operator)
			fmt.Fprintf(&b, "  status  %s\n", wk.Status)
		}
		fmt.Fprintf(&b, "try:\n  %s\n", example)
		fmt.Fprintf(&b, "  %s query balance %s%s\n", selfCommand(), accounts[1].Address, nodeFlag)
		fmt.Fprint(&b, "running; Ctrl-C stops")
		return b.String()
	})
}
