package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"
)

// JoinOptions lay out a new, non-validator node of a running network.
type JoinOptions struct {
	Genesis string // path of the network's genesis.json
	Moniker string // default "joiner"
	// Peers are the nodes to connect to, id@host:port,... (`phala node
	// id --home DIR` prints a node's).
	Peers      string
	Ports      Ports
	ListenHost string // default 127.0.0.1
	Timing     Timing // zero = DevTiming()
	// StateSync, when set, restores a recent snapshot instead of replaying
	// every block from genesis.
	StateSync *StateSync
	Snapshots SnapshotConfig // zero = defaults
}

// StateSync is what a node needs to trust a snapshot: a block it trusts
// (height and hash, taken from a source the operator trusts), within the
// trust period, and two RPC servers its light client verifies headers
// from (one as primary, the other as witness).
type StateSync struct {
	RPCServers  []string
	TrustHeight int64
	TrustHash   string        // hex
	TrustPeriod time.Duration // default 168h (the unbonding period of a PoS chain would bound it)
}

// stateSyncDiscovery is how long a joining node collects snapshot offers
// before choosing: the minimum CometBFT allows, since its peers are the
// validators it dials at once.
const stateSyncDiscovery = 5 * time.Second

// InitJoin lays out a home for a node that joins an existing network: its
// keys (not a validator's), the network's genesis, CometBFT's config with
// the peers and, if asked, state sync. Start it with Start.
func InitJoin(home Home, o JoinOptions) error {
	if home.Exists() {
		return fmt.Errorf("node home %s already exists (remove it to join again)", home.Dir())
	}
	if err := o.check(); err != nil {
		return err
	}
	o = o.withDefaults()
	genBytes, err := readGenesisFile(o.Genesis)
	if err != nil {
		return err
	}
	if _, err := initKeys(home); err != nil {
		return err
	}
	// The network's file byte for byte: re-encoding could change what
	// every other node hashed.
	if err := os.WriteFile(home.GenesisFile(), genBytes, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", home.GenesisFile(), err)
	}
	if err := writeAppConfig(home, AppConfig{Snapshots: o.Snapshots}); err != nil {
		return err
	}
	c := newConfig(home, nodeConfig{
		Moniker: o.Moniker, P2PHost: o.ListenHost, RPCHost: o.ListenHost, Ports: o.Ports, Timing: o.Timing,
		Peers: o.Peers, TxIndex: TxIndexNull,
	})
	if s := o.StateSync; s != nil {
		c.StateSync.Enable = true
		c.StateSync.RPCServers = s.RPCServers
		c.StateSync.TrustHeight = s.TrustHeight
		c.StateSync.TrustHash = strings.ToLower(s.TrustHash)
		c.StateSync.TrustPeriod = s.TrustPeriod
		c.StateSync.DiscoveryTime = stateSyncDiscovery
	}
	// config.toml last: Exists turns true only once the home is complete.
	return writeConfig(home, c)
}

// PeerAddress is how other nodes name the node at home in their peer
// lists: id@host:port of its P2P listener (its external address if set).
func PeerAddress(home Home) (string, error) {
	if !home.Exists() {
		return "", home.errNoHome()
	}
	c, err := loadConfig(home)
	if err != nil {
		return "", err
	}
	nk, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return "", fmt.Errorf("node key of %s: %w", home.Dir(), err)
	}
	addr := c.P2P.ExternalAddress
	if addr == "" {
		u, err := url.Parse(c.P2P.ListenAddress)
		if err != nil {
			return "", fmt.Errorf("p2p listen address %q: %w", c.P2P.ListenAddress, err)
		}
		addr = u.Host
	}
	return string(nk.ID()) + "@" + addr, nil
}

func (o JoinOptions) withDefaults() JoinOptions {
	if o.Moniker == "" {
		o.Moniker = "joiner"
	}
	if o.ListenHost == "" {
		o.ListenHost = defaultListenHost
	}
	if o.Snapshots == (SnapshotConfig{}) {
		o.Snapshots = DefaultAppConfig().Snapshots
	}
	if o.StateSync != nil && o.StateSync.TrustPeriod == 0 {
		s := *o.StateSync
		s.TrustPeriod = 168 * time.Hour
		o.StateSync = &s
	}
	return o
}

func (o JoinOptions) check() error {
	if o.Genesis == "" {
		return errors.New("the network's genesis file is required")
	}
	if strings.TrimSpace(o.Peers) == "" {
		return errors.New("at least one peer (id@host:port) is required")
	}
	for _, p := range strings.Split(o.Peers, ",") {
		if _, err := p2p.NewNetAddressString(strings.TrimSpace(p)); err != nil {
			return fmt.Errorf("peer %q: %w", p, err)
		}
	}
	if err := checkPorts(o.Ports); err != nil {
		return err
	}
	if o.StateSync != nil {
		return o.StateSync.check()
	}
	return nil
}

func (s StateSync) check() error {
	if len(s.RPCServers) < 2 {
		return fmt.Errorf("state sync needs two RPC servers (a primary and a witness for its light client), got %d", len(s.RPCServers))
	}
	for _, r := range s.RPCServers {
		if u, err := url.Parse(r); err != nil || u.Host == "" {
			return fmt.Errorf("RPC server %q is not a URL like http://host:26657", r)
		}
	}
	if s.TrustHeight < 1 {
		return fmt.Errorf("trust height %d: give a recent block's height", s.TrustHeight)
	}
	if b, err := hex.DecodeString(s.TrustHash); err != nil || len(b) != 32 {
		return fmt.Errorf("trust hash %q is not a block hash (64 hex digits)", s.TrustHash)
	}
	if s.TrustPeriod < 0 {
		return fmt.Errorf("trust period %s is negative", s.TrustPeriod)
	}
	return nil
}

func readGenesisFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading genesis: %w", err)
	}
	if _, err := types.GenesisDocFromJSON(b); err != nil {
		return nil, fmt.Errorf("genesis file %s is invalid: %w", path, err)
	}
	return b, nil
}
