package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// runningNodeJSON is what a running node prints: with --tee-nodes, its
// development TEE nodes and cluster too.
type runningNodeJSON struct {
	ChainID    string          `json:"chain_id"`
	RPC        string          `json:"rpc"`
	Home       string          `json:"home"`
	Gatekeeper *teeNodeJSON    `json:"gatekeeper,omitempty"`
	Workers    []*teeNodeJSON  `json:"workers,omitempty"`
	Cluster    *devClusterJSON `json:"cluster,omitempty"`
}

func newNodeCmd() *cobra.Command {
	var (
		home    string
		withTEE bool
	)
	cmd := &cobra.Command{
		Use:   "node --home DIR",
		Short: "Run one node from its home (a validator made by phala testnet, or a node made by phala node join)",
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
				out := runningNodeJSON{ChainID: v.Node.ChainID(), RPC: v.Node.RPCURL(), Home: home}
				if !withTEE {
					return recordEndpoints(h, v, nil, nil), emit(out, func() string {
						return fmt.Sprintf("validator of %s running; rpc %s; Ctrl-C stops", out.ChainID, out.RPC)
					})
				}
				tee, err := startTEENodes(h, v)
				if err != nil {
					return nil, err
				}
				out.Gatekeeper, out.Workers, out.Cluster = tee.json()
				return recordEndpoints(h, v, tee.publicURLs(), tee.stop), emit(out, func() string {
					var b strings.Builder
					fmt.Fprintf(&b, "validator of %s running; rpc %s\n", out.ChainID, out.RPC)
					printTEENode(&b, "gatekeeper", out.Gatekeeper)
					for _, w := range out.Workers {
						printTEENode(&b, "worker", w)
					}
					if cl := out.Cluster; cl != nil {
						fmt.Fprintf(&b, "cluster   %s  public key %s\n", cl.ID, short(cl.PublicKey))
					}
					fmt.Fprintf(&b, "try: %s demo --home %s\nCtrl-C stops", selfCommand(), home)
					return b.String()
				})
			}), h, false)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "the node's home directory")
	cmd.Flags().BoolVar(&withTEE, "tee-nodes", false, "also run, in this process, the development TEE nodes phala devnet runs (sim TEE: a gatekeeper "+
		"operated by dave, workers operated by erin and frank, each with its relay) and put the workers in the default cluster; "+
		"for a testnet of phala testnet, on one of its validators")
	cmd.MarkFlagRequired("home")
	cmd.AddCommand(newNodeCheckCmd(), newNodeJoinCmd(), newNodeIDCmd())
	return cmd
}

func newNodeJoinCmd() *cobra.Command {
	var (
		o       node.JoinOptions
		home    string
		ss      node.StateSync
		servers []string
		timing  timingFlags
	)
	cmd := &cobra.Command{
		Use:   "join --home DIR --genesis FILE --peers ID@HOST:PORT,... [--rpc-servers URL,URL --trust-height H --trust-hash HASH]",
		Short: "Write the home of a new (non-validator) node of a running network, to start with `phala node`",
		Long: `Write the home of a new node that joins a running network as a full node (not a
validator): its own keys, the network's genesis file, its peers.

With --trust-height and --trust-hash it joins by state sync: at its first start it
fetches a recent snapshot of the application state from its peers instead of
replaying every block since genesis. The snapshot is accepted only if it matches the
app hash of its height, which a light client verifies from the trusted block over the
two --rpc-servers (a primary and a witness); every chunk is checked as it arrives and
the rebuilt state's root at the end. Take the trusted height and hash from a source
you trust, e.g. a validator you run:
  curl -s http://VALIDATOR:26657/block | jq -r '.result.block.header.height, .result.block_id.hash'

Without them it replays the chain from genesis (block sync).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Timing = timing.timing()
			if cmd.Flags().Changed("trust-height") || cmd.Flags().Changed("trust-hash") || len(servers) > 0 {
				ss.RPCServers = servers
				o.StateSync = &ss
			}
			h := node.Home(home)
			if err := node.InitJoin(h, o); err != nil {
				return err
			}
			peer, err := node.PeerAddress(h)
			if err != nil {
				return err
			}
			out := map[string]any{"home": home, "peer_address": peer, "state_sync": o.StateSync != nil}
			if o.StateSync != nil {
				out["trust_height"] = ss.TrustHeight
			}
			return emit(out, func() string {
				how := "block sync from genesis"
				if o.StateSync != nil {
					how = fmt.Sprintf("state sync (trusting block %d)", ss.TrustHeight)
				}
				return fmt.Sprintf("wrote %s (peer address %s); it joins by %s. Start it with:\n  %s node --home %s", home, peer, how, selfCommand(), home)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&home, "home", "", "the new node's home directory (must not exist)")
	f.StringVar(&o.Genesis, "genesis", "", "the network's genesis.json")
	f.StringVar(&o.Peers, "peers", "", "nodes to connect to, id@host:port,... (phala node id --home DIR prints a node's)")
	f.StringVar(&o.Moniker, "moniker", "joiner", "the node's name on the network")
	f.IntVar(&o.Ports.P2P, "p2p-port", 26656, "P2P listen port")
	f.IntVar(&o.Ports.RPC, "rpc-port", 26657, "RPC listen port (127.0.0.1)")
	f.StringSliceVar(&servers, "rpc-servers", nil, "state sync: two RPC servers of the network, http://host:port,http://host:port")
	f.Int64Var(&ss.TrustHeight, "trust-height", 0, "state sync: height of a block you trust")
	f.StringVar(&ss.TrustHash, "trust-hash", "", "state sync: hash (hex) of the block at --trust-height")
	f.DurationVar(&ss.TrustPeriod, "trust-period", 168*time.Hour, "state sync: how long a trusted validator set stays trusted")
	f.Int64Var(&o.Snapshots.Interval, "snapshot-interval", node.DefaultSnapshotInterval, "take a snapshot every N blocks for later joiners (0: none)")
	f.IntVar(&o.Snapshots.KeepRecent, "snapshot-keep", node.DefaultSnapshotKeep, "snapshots to keep")
	timing.add(f)
	for _, r := range []string{"home", "genesis", "peers"} {
		cmd.MarkFlagRequired(r)
	}
	return cmd
}

func newNodeIDCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "id --home DIR",
		Short: "Print the node's peer address (id@host:port), for other nodes' --peers",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			peer, err := node.PeerAddress(node.Home(home))
			if err != nil {
				return err
			}
			return emit(map[string]string{"peer_address": peer}, func() string { return peer })
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "the node's home directory")
	cmd.MarkFlagRequired("home")
	return cmd
}

// timingFlags set consensus timeouts; zero keeps the development default
// (DevTiming). Fast blocks are for tests on one machine.
type timingFlags struct{ propose, commit time.Duration }

func (t *timingFlags) add(f *pflag.FlagSet) {
	f.DurationVar(&t.propose, "timeout-propose", 0, "consensus timeout_propose (default 1s)")
	f.DurationVar(&t.commit, "timeout-commit", 0, "consensus timeout_commit, the pause between blocks (default 500ms)")
}

func (t timingFlags) timing() node.Timing {
	if t.propose == 0 && t.commit == 0 {
		return node.Timing{}
	}
	d := node.DevTiming()
	if t.propose != 0 {
		d.TimeoutPropose = t.propose
	}
	if t.commit != 0 {
		d.TimeoutCommit = t.commit
	}
	return d
}

func newTestnetCmd() *cobra.Command {
	var (
		o      network.TestnetOptions
		hosts  []string
		timing timingFlags
	)
	cmd := &cobra.Command{
		Use:   "testnet --validators N --out DIR",
		Short: "Write the homes of an N-validator network (loopback, or --hosts for several machines)",
		Long: "Write the homes of an N-validator network (loopback, or --hosts for several machines).\n\n" +
			"Without --production it is a DEVELOPMENT network: sim quotes are accepted, alice is the chain's unsafe dev " +
			"admin (gov.unsafe_dev_admin: privileged changes need no proposal) and governance votes on a short clock. " +
			"With --production: real SGX/TDX quotes only, no unsafe dev admin (every privileged change is a proposal: " +
			"phala tx gov propose) and governance's default params.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o.Hosts = hosts
			o.Timing = timing.timing()
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
	cmd.Flags().BoolVar(&o.Production, "production", false, "refuse sim quotes (only real SGX/TDX nodes may register) and name no unsafe dev admin")
	cmd.Flags().BoolVar(&o.PublicRPC, "public-rpc", false,
		"with --hosts, make each node's RPC listen on its host instead of 127.0.0.1: anyone who reaches it can read the chain and "+
			"submit transactions (no auth, no TLS; subscriptions and broadcast_tx_commit refused; no tx index unless --tx-index kv)")
	cmd.Flags().StringVar(&o.TxIndex, "tx-index", "", "tx indexer: kv (needed by `phala tx` and `query tx`, but also serves the costly "+
		"tx_search/block_search) or null; default kv with loopback RPC, null with --public-rpc")
	cmd.Flags().Int64Var(&o.Snapshots.Interval, "snapshot-interval", node.DefaultSnapshotInterval,
		"validators take a state-sync snapshot every N blocks (0: none); in each home's config/app.toml")
	cmd.Flags().IntVar(&o.Snapshots.KeepRecent, "snapshot-keep", node.DefaultSnapshotKeep, "snapshots each validator keeps")
	timing.add(cmd.Flags())
	cmd.MarkFlagRequired("out")
	return cmd
}
