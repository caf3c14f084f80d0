package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

func newNodeCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "node --home DIR",
		Short: "Run one validator from its home (made by phala testnet)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h := node.Home(home)
			if !h.Exists() { // checked before locking, which would create the directory
				return fmt.Errorf("%w at %s (run `phala testnet` first)", node.ErrNoHome, home)
			}
			lock, err := lockHome(h, "node")
			if err != nil {
				return err
			}
			defer lock.Unlock()
			return explainPortInUse(runUntilSignal(h, func(v *network.Validator) (func() error, error) {
				return nil, emit(map[string]string{"chain_id": v.Node.ChainID(), "rpc": v.Node.RPCURL(), "home": home}, func() string {
					return fmt.Sprintf("validator of %s running; rpc %s; Ctrl-C stops", v.Node.ChainID(), v.Node.RPCURL())
				})
			}), h, false)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "the validator's home directory")
	cmd.MarkFlagRequired("home")
	cmd.AddCommand(newNodeCheckCmd())
	return cmd
}

func newTestnetCmd() *cobra.Command {
	var (
		o     network.TestnetOptions
		hosts []string
	)
	cmd := &cobra.Command{
		Use:   "testnet --validators N --out DIR",
		Short: "Write the homes of an N-validator network (loopback, or --hosts for several machines)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o.Hosts = hosts
			homes, err := network.WriteTestnet(o)
			if err != nil {
				return err
			}
			paths := make([]string, len(homes))
			for i, h := range homes {
				paths[i] = string(h)
			}
			configPath, err := writeTestnetClientConfig(o)
			if err != nil {
				return err
			}
			return emit(map[string]any{"homes": paths, "keyring": o.OutDir + "/keys", "client_config": configPath}, func() string {
				s := fmt.Sprintf("wrote %d validator homes; start each with:\n", len(homes))
				for _, p := range paths {
					s += fmt.Sprintf("  %s node --home %s\n", selfCommand(), p)
				}
				s += fmt.Sprintf("development keys (passphrase %q) are in %s/keys\n", network.DevPassphrase, o.OutDir)
				return s + fmt.Sprintf("client config (validator 0) in %s; use it with:\n  export %s=%s", configPath, envClientConfig, configPath)
			})
		},
	}
	cmd.Flags().IntVar(&o.Validators, "validators", 4, "number of validators")
	cmd.Flags().StringVar(&o.OutDir, "out", "", "output directory")
	cmd.Flags().StringSliceVar(&hosts, "hosts", nil, "one host per validator (default: all on 127.0.0.1); P2P listens on it, RPC stays on 127.0.0.1 unless --public-rpc")
	cmd.Flags().IntVar(&o.BasePort, "base-port", 26656, "first port; each validator on a host takes two")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "phala-testnet", "chain id")
	cmd.Flags().BoolVar(&o.Production, "production", false, "refuse sim quotes: only real SGX/TDX nodes may register")
	cmd.Flags().BoolVar(&o.PublicRPC, "public-rpc", false,
		"with --hosts, make each node's RPC listen on its host instead of 127.0.0.1: anyone who reaches it can read the chain and "+
			"submit transactions (no auth, no TLS; subscriptions and broadcast_tx_commit refused; no tx index unless --tx-index kv)")
	cmd.Flags().StringVar(&o.TxIndex, "tx-index", "", "tx indexer: kv (needed by `phala tx` and `query tx`, but also serves the costly "+
		"tx_search/block_search) or null; default kv with loopback RPC, null with --public-rpc")
	cmd.MarkFlagRequired("out")
	return cmd
}
