package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/lightproof"
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

The file is JSON with the optional fields node, chain_id, keyring,
written_by, trust (the root proven queries start from: height, hash, period,
source; set it with phala config trust) and witnesses (nodes proven queries
cross-check headers with). phala devnet rewrites it at each start when it is absent or was
written by a devnet; phala testnet writes one into its --out directory.
When the node comes from the file and the file names a chain_id, client
commands refuse a node on another chain.`,
	}
	cmd.AddCommand(configShowCmd(), configTrustCmd())
	return cmd
}

// trustJSON is what `config trust` did.
type trustJSON struct {
	ConfigFile string `json:"config_file"`
	Cleared    bool   `json:"cleared,omitempty"`
	Height     int64  `json:"height,omitempty"`
	Hash       string `json:"hash,omitempty"`
	Period     string `json:"period,omitempty"`
	Source     string `json:"source,omitempty"`
	FromNode   string `json:"from_node,omitempty"`
}

func configTrustCmd() *cobra.Command {
	var (
		height             int64
		hash, period, node string
		fromNode, clear    bool
		timeout            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Set the trust root proven queries (--prove) start from",
		Long: `Set the trust root proven queries (query ... --prove) start from: a block
height and the hash of that block's header, trusted for a period (default
168h after that header's time). Every proven answer follows from it by the
validators' signatures and Merkle proofs.

Get the height and hash from a source you trust (a block explorer you trust,
another operator, your own node), then:

  phala config trust --height H --hash HEADER_HASH

--from-node instead takes the header at --height (default: the newest) from
the configured node, trusting that node once (trust on first use): later
answers are checked against it, but if the node lied now, they are checked
against its lie. --clear removes the trust root.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configPathSetting(givenFlags(cmd), os.Getenv).Value
			c, _, err := loadClientConfig(path)
			if err != nil {
				return err
			}
			out := trustJSON{ConfigFile: path}
			switch {
			case clear:
				if fromNode || hash != "" || height != 0 {
					return fmt.Errorf("--clear takes no other trust flag")
				}
				c.Trust, out.Cleared = nil, true
			case fromNode:
				if hash != "" {
					return fmt.Errorf("--from-node takes the hash from the node: leave out --hash")
				}
				if c.Trust, err = trustFromNode(cmd, node, height, timeout, c); err != nil {
					return err
				}
				out.FromNode = c.Trust.Source
			default:
				if c.Trust, err = givenTrust(height, hash); err != nil {
					return err
				}
			}
			if c.Trust != nil {
				c.Trust.Period = period
				if _, err := c.Trust.root(); err != nil {
					return err
				}
				out.Height, out.Hash, out.Period, out.Source = c.Trust.Height, c.Trust.Hash, c.Trust.Period, c.Trust.Source
			}
			if err := saveClientConfig(path, c); err != nil {
				return err
			}
			return emit(out, out.text)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&height, "height", 0, "the trusted block height (with --from-node, default: the newest)")
	f.StringVar(&hash, "hash", "", "the trusted header's hash (64 hex digits)")
	f.StringVar(&period, "period", "", "how long after the header's time it is trusted, a duration (default 168h)")
	f.BoolVar(&fromNode, "from-node", false, "take the header from the configured node, trusting it once (trust on first use)")
	f.BoolVar(&clear, "clear", false, "remove the trust root")
	f.StringVar(&node, "node", "", "with --from-node: the node to take the header from (default: "+nodeFlagUsageShort+")")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "with --from-node: give up after this long")
	return cmd
}

// nodeFlagUsageShort names where a node comes from when not given.
const nodeFlagUsageShort = "$" + envNode + ", else the client config's node"

func (t trustJSON) text() string {
	if t.Cleared {
		return fmt.Sprintf("trust root removed from %s", t.ConfigFile)
	}
	period := t.Period
	if period == "" {
		period = lightproof.DefaultTrustPeriod.String() + " (default)"
	}
	return rowsText("", []row{{"trust root", fmt.Sprintf("height %d, header hash %s", t.Height, t.Hash)},
		{"trusted for", period}, {"source", t.Source}, {"saved in", t.ConfigFile}})
}

// givenTrust is a root the user typed.
func givenTrust(height int64, hash string) (*trustConfig, error) {
	if height == 0 || hash == "" {
		return nil, fmt.Errorf("give --height and --hash of a header you trust (or --from-node to trust the configured node once)")
	}
	r, err := parseTrustRoot(fmt.Sprint(height), hash)
	if err != nil {
		return nil, err
	}
	return &trustConfig{Height: r.Height, Hash: strings.ToUpper(hex.EncodeToString(r.Hash)), Source: "given by the user"}, nil
}

// trustFromNode takes the header at height (0: the newest) from the node,
// and says loudly on stderr that it trusts that node's word once.
func trustFromNode(cmd *cobra.Command, node string, height int64, timeout time.Duration, file clientConfig) (*trustConfig, error) {
	if node == "" {
		s, err := resolveClientSettings(givenFlags(cmd), os.Getenv)
		if err != nil {
			return nil, err
		}
		node = s.Node.Value
	}
	c, err := client.New(node)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if file.ChainID != "" {
		if err := (chainExpectation{chainID: file.ChainID, configFile: "the client config"}).verify(ctx, c); err != nil {
			return nil, err
		}
	}
	var at *int64
	if height != 0 {
		at = &height
	}
	b, err := c.Block(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("header from %s: %w", node, err)
	}
	hash := b.Block.Header.Hash()
	if len(hash) != 32 || !bytes.Equal(hash, b.BlockID.Hash) {
		return nil, fmt.Errorf("node %s: block %d's header hashes to %X but the node names it %X", node, b.Block.Height, hash, b.BlockID.Hash)
	}
	fmt.Fprintf(os.Stderr, "TRUST ON FIRST USE: trusting node %s's word, this once, that header %d of chain %s has hash %s.\n"+
		"Every proven query will be checked against this header. Compare the hash with a source you trust; if it differs, run phala config trust --height H --hash HASH.\n",
		node, b.Block.Height, b.Block.ChainID, hash)
	return &trustConfig{Height: b.Block.Height, Hash: hash.String(),
		Source: fmt.Sprintf("trusted on first use from node %s at %s", node, time.Now().UTC().Format(time.RFC3339))}, nil
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
	trust := "none (phala config trust sets one)"
	if s.Trust != nil {
		trust = fmt.Sprintf("height %d, hash %s (%s)", s.Trust.Height, s.Trust.Hash, s.Trust.Source)
	}
	return fmt.Sprintf("config file  %s  (%s, %s)\nnode         %s  (%s)\nchain id     %s  (%s)\nkeyring      %s  (%s)\ntrust root   %s\nwitnesses    %s",
		s.ConfigFile.Value, s.ConfigFile.Source, found, s.Node.Value, s.Node.Source, chain, s.ChainID.Source, s.Keyring.Value, s.Keyring.Source,
		trust, witnessesText(s.Witnesses))
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
	// A devnet may be a new chain under the same chain id: an old trust
	// root would then refuse every proven query with a hash mismatch.
	if old.Trust != nil {
		fmt.Fprintf(os.Stderr, "client config: trust root (height %d) dropped, since this devnet may be a new chain: set it again with phala config trust\n", old.Trust.Height)
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
