package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

func newDevnetCmd() *cobra.Command {
	var (
		home     string
		p2p, rpc int
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
			return runUntilSignal(h, func(v *network.Validator) error { return printDevnet(h, v) })
		},
	}
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
}

func printDevnet(h node.Home, v *network.Validator) error {
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
	return emit(out, func() string {
		var b strings.Builder
		fmt.Fprintln(&b, "WARNING: development network: its keys are public, it protects nothing.")
		fmt.Fprintf(&b, "chain     %s\nrpc       %s\nhome      %s\n", out.ChainID, out.RPC, out.Home)
		fmt.Fprintf(&b, "accounts  (keys in %s, passphrase %q)\n", keys, network.DevPassphrase)
		for _, a := range accounts {
			fmt.Fprintf(&b, "  %-6s %s  %s\n", a.Name, a.Address, a.Purpose)
		}
		fmt.Fprintf(&b, "try:\n  %s\n", example)
		fmt.Fprintf(&b, "  %s query balance %s%s\n", selfCommand(), accounts[1].Address, nodeFlag)
		fmt.Fprint(&b, "running; Ctrl-C stops")
		return b.String()
	})
}
