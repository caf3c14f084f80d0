package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "The client configuration: which node, chain and keyring client commands use",
		Long: `The client configuration: which node, chain and keyring client commands use.

Each value comes from, highest first: the command-line flag (--node,
--keyring), the environment (PHALA_NODE, PHALA_KEYRING), the config file,
the built-in default. The file is --config, else $PHALA_CLIENT_CONFIG, else
~/.phala/client.json ($PHALA_HOME/client.json when PHALA_HOME is set).

The file is JSON with the optional fields node, chain_id, keyring and
written_by. phala devnet rewrites it at each start when it is absent or was
written by a devnet; phala testnet writes one into its --out directory.
When the node comes from the file and the file names a chain_id, client
commands refuse a node on another chain.`,
	}
	cmd.AddCommand(configShowCmd())
	return cmd
}

func configShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective node, chain id and keyring, and where each comes from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := resolveClientSettings(givenFlags(cmd), os.Getenv)
			if err != nil {
				return err
			}
			return emit(s, func() string { return s.text() })
		},
	}
	// Plain flags, not config-backed: show reports what a client command
	// given these flags would use.
	cmd.Flags().String("node", "", "as a client command's --node")
	cmd.Flags().String("keyring", "", "as a client command's --keyring")
	return cmd
}

func (s clientSettings) text() string {
	found := "absent"
	if s.ConfigFound {
		found = "found"
	}
	chain := s.ChainID.Value
	switch {
	case chain == "":
		chain = "(any)"
	case s.expectedChainID() == "":
		chain += " (not checked: the node does not come from the file)"
	}
	return fmt.Sprintf("config file  %s  (%s, %s)\nnode         %s  (%s)\nchain id     %s  (%s)\nkeyring      %s  (%s)",
		s.ConfigFile.Value, s.ConfigFile.Source, found, s.Node.Value, s.Node.Source, chain, s.ChainID.Source, s.Keyring.Value, s.Keyring.Source)
}

// recordDevnetClientConfig points the client config at the devnet that just
// started, so client commands find it without --node. It leaves alone a
// file the devnet did not write (the user's own settings), and says on
// stderr what it did; a failure is a warning, not a reason to stop the
// devnet.
func recordDevnetClientConfig(h node.Home, v *network.Validator) {
	path := configPathSetting(givenFlags(nil), os.Getenv).Value
	old, found, err := loadClientConfig(path)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "warning: client config left as is: %v\n", err)
		return
	case found && old.WrittenBy != writtenByDevnet:
		fmt.Fprintf(os.Stderr, "client config %s left as is (written_by is %q, not %q): give clients --node %s\n", path, old.WrittenBy, writtenByDevnet, v.Node.RPCURL())
		return
	}
	c := clientConfig{Node: v.Node.RPCURL(), ChainID: v.Node.ChainID(), Keyring: absPath(network.KeyringDir(h)), WrittenBy: writtenByDevnet}
	if err := saveClientConfig(path, c); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
		return
	}
	fmt.Fprintf(os.Stderr, "client config %s points at this devnet (node %s, keyring %s)\n", path, c.Node, c.Keyring)
}

// writeTestnetClientConfig writes outDir/client.json pointing at the first
// validator, whose RPC port is BasePort+1 (node.Testnet's layout).
func writeTestnetClientConfig(o network.TestnetOptions) (string, error) {
	dir := absPath(o.OutDir)
	// Without --public-rpc validator 0 only answers on its own loopback:
	// the config then serves a client on that machine (or through a tunnel).
	host := "127.0.0.1"
	if o.PublicRPC {
		host = o.Hosts[0]
	}
	c := clientConfig{
		Node:      "http://" + net.JoinHostPort(host, strconv.Itoa(o.BasePort+1)),
		ChainID:   o.ChainID,
		Keyring:   filepath.Join(dir, "keys"),
		WrittenBy: writtenByTestnet,
	}
	path := filepath.Join(dir, "client.json")
	return path, saveClientConfig(path, c)
}

// absPath makes a printed or stored path usable from any directory; it
// keeps p as is if the working directory is unknown.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
