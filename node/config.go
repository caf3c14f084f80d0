package node

import (
	"fmt"
	"net"
	"strconv"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
)

// Ports are the TCP ports a node listens on.
type Ports struct{ P2P, RPC int }

// Timing holds the consensus timeouts we expose; everything else keeps
// CometBFT's defaults.
type Timing struct {
	TimeoutPropose            time.Duration
	TimeoutCommit             time.Duration
	CreateEmptyBlocks         bool
	CreateEmptyBlocksInterval time.Duration
}

// DevTiming gives fast blocks for devnets and tests.
func DevTiming() Timing {
	return Timing{
		TimeoutPropose:    time.Second,
		TimeoutCommit:     500 * time.Millisecond,
		CreateEmptyBlocks: true,
	}
}

// orDev treats the zero Timing as "not chosen" so callers can leave it out.
func (t Timing) orDev() Timing {
	if t == (Timing{}) {
		return DevTiming()
	}
	return t
}

func (t Timing) apply(c *cfg.Config) {
	c.Consensus.TimeoutPropose = t.TimeoutPropose
	c.Consensus.TimeoutCommit = t.TimeoutCommit
	c.Consensus.CreateEmptyBlocks = t.CreateEmptyBlocks
	c.Consensus.CreateEmptyBlocksInterval = t.CreateEmptyBlocksInterval
}

const (
	defaultListenHost = "127.0.0.1"
	mempoolSize       = 20000
	// Large enough that benchmarks fill mempoolSize txs before hitting the byte cap.
	mempoolMaxTxsBytes = 1 << 30
	genesisBlockBytes  = 4 << 20
	// genesisBlockGas is the sum of gas limits a block may hold. The
	// application reports each transaction's gas limit as its GasWanted, so
	// this fits 10,000 transactions at the client's default limit (100,000)
	// rather than CometBFT's default budget of 100.
	genesisBlockGas = 1_000_000_000
)

// nodeConfig is everything that differs between the nodes we lay out.
type nodeConfig struct {
	Moniker string
	P2PHost string // address P2P listens on
	// RPCHost is the address RPC listens on. Anything but loopback makes the
	// node's RPC public, which tightens its bounds (see applyRPCBounds).
	RPCHost string
	// PublicRPC says the operator chose to serve RPC to others (even on an
	// address that looks local, e.g. behind a port forward).
	PublicRPC bool
	// TxIndex is the tx indexer; empty picks "kv" on loopback RPC (our
	// commands confirm transactions by hash) and "null" on public RPC.
	TxIndex      string
	Ports        Ports
	ExternalHost string // advertised P2P host; empty = the listen address
	Peers        string // persistent_peers, id@host:port,...
	Timing       Timing
}

// newConfig builds the config.toml contents for one node.
func newConfig(home Home, nc nodeConfig) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home.Dir())
	c.Moniker = nc.Moniker
	c.DBBackend = "pebbledb"
	c.LogLevel = "info"
	c.RPC.ListenAddress = "tcp://" + net.JoinHostPort(nc.RPCHost, strconv.Itoa(nc.Ports.RPC))
	c.P2P.ListenAddress = "tcp://" + net.JoinHostPort(nc.P2PHost, strconv.Itoa(nc.Ports.P2P))
	applyRPCBounds(c, nc.publicRPC())
	c.TxIndex.Indexer = nc.txIndex()
	if nc.ExternalHost != "" {
		c.P2P.ExternalAddress = net.JoinHostPort(nc.ExternalHost, strconv.Itoa(nc.Ports.P2P))
	}
	c.P2P.PersistentPeers = nc.Peers
	// Loopback networks: many nodes share one IP and use private addresses.
	c.P2P.AllowDuplicateIP = true
	c.P2P.AddrBookStrict = false
	c.Mempool.Size = mempoolSize
	c.Mempool.MaxTxsBytes = mempoolMaxTxsBytes
	c.Instrumentation.Prometheus = false
	nc.Timing.orDev().apply(c)
	return c
}

// writeConfig turns CometBFT's panics on write errors into errors.
func writeConfig(home Home, c *cfg.Config) error {
	if err := c.ValidateBasic(); err != nil {
		return fmt.Errorf("invalid node config: %w", err)
	}
	return catch("writing "+home.ConfigFile(), func() error {
		cfg.WriteConfigFile(home.ConfigFile(), c)
		return nil
	})
}

// loadConfig reads config.toml the way the cometbft binary does (viper
// decoding into the mapstructure-tagged Config), so hand edits are honoured.
func loadConfig(home Home) (*cfg.Config, error) {
	v := viper.New()
	v.SetConfigFile(home.ConfigFile())
	v.SetConfigType("toml")
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("config file %s is invalid: %w", home.ConfigFile(), err)
	}
	c := cfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("config file %s is invalid: %w", home.ConfigFile(), err)
	}
	c.SetRoot(home.Dir())
	return c, nil
}

// catch runs f, turning a panic (CometBFT helpers panic on I/O errors) into
// an error about what.
func catch(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	return f()
}
