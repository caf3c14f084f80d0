package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cometbft/cometbft/types"
)

// Testnet describes a multi-validator network to lay out on disk.
type Testnet struct {
	Validators int    // number of validator nodes (>= 1)
	OutDir     string // homes go to OutDir/node0 ... OutDir/node<N-1>
	// Hosts has one address per validator (IP or DNS name), or is empty for
	// all on 127.0.0.1. With hosts given, P2P listens on and advertises the
	// node's host (validators must reach each other); RPC stays on
	// 127.0.0.1 unless PublicRPC.
	Hosts []string
	// PublicRPC makes RPC listen on each node's host too, so anyone who can
	// reach the host can query the chain and submit transactions. Opt-in:
	// it is the only reason a node would serve strangers. Needs Hosts.
	PublicRPC bool
	// TxIndex is "kv", "null" or empty for the default: kv on loopback RPC
	// (`phala tx` and `query tx` look transactions up by hash), null on
	// public RPC, where kv would also serve tx_search and block_search to
	// anyone (see TxIndexKV).
	TxIndex string
	// BasePort: the k-th node on a host uses P2P=BasePort+2k, RPC=BasePort+2k+1,
	// so all on one host gives node i P2P=BasePort+2i and distinct hosts all
	// use BasePort, BasePort+1. Default 26656.
	BasePort int
	ChainID  string // default "phala-testnet"
	Timing   Timing // zero value = DevTiming()
	// Snapshots: how often validators take state-sync snapshots (zero
	// value = DefaultAppConfig's).
	Snapshots SnapshotConfig
	// AppState builds the genesis app_state once the validator keys exist
	// (nil = no app_state).
	AppState func(validators []types.GenesisValidator) (json.RawMessage, error)
}

// testnetNode is one node's place in the network.
type testnetNode struct {
	home  Home
	host  string // address peers dial
	ports Ports
	keys  nodeKeys
}

// WriteTestnet lays out one home per validator, all sharing one genesis.json
// and wired to each other through persistent_peers.
func WriteTestnet(t Testnet) ([]Home, error) {
	t = t.withDefaults()
	if err := t.check(); err != nil {
		return nil, err
	}
	homes, err := t.write()
	if err != nil {
		t.removeNodes()
		return nil, err
	}
	return homes, nil
}

func (t Testnet) write() ([]Home, error) {
	nodes, err := t.makeNodes()
	if err != nil {
		return nil, err
	}
	gen, err := t.genesis(nodes)
	if err != nil {
		return nil, err
	}
	homes := make([]Home, len(nodes))
	for i, n := range nodes {
		if err := writeGenesis(n.home, gen); err != nil {
			return nil, err
		}
		if err := writeAppConfig(n.home, AppConfig{Snapshots: t.Snapshots}); err != nil {
			return nil, err
		}
		if err := writeConfig(n.home, newConfig(n.home, t.nodeConfig(nodes, i))); err != nil {
			return nil, err
		}
		homes[i] = n.home
	}
	return homes, nil
}

func (t Testnet) withDefaults() Testnet {
	if t.BasePort == 0 {
		t.BasePort = 26656
	}
	if t.ChainID == "" {
		t.ChainID = "phala-testnet"
	}
	if t.Snapshots == (SnapshotConfig{}) {
		t.Snapshots = DefaultAppConfig().Snapshots
	}
	return t
}

func (t Testnet) check() error {
	switch {
	case t.Validators < 1:
		return fmt.Errorf("a testnet needs at least one validator (got %d)", t.Validators)
	case t.OutDir == "":
		return errors.New("testnet output directory is empty")
	case len(t.Hosts) != 0 && len(t.Hosts) != t.Validators:
		return fmt.Errorf("got %d hosts for %d validators (give one per validator or none)", len(t.Hosts), t.Validators)
	case t.BasePort < 1 || t.BasePort+2*t.Validators-1 > 65535:
		return fmt.Errorf("base port %d leaves no room for %d nodes", t.BasePort, t.Validators)
	case t.PublicRPC && len(t.Hosts) == 0:
		return errors.New("public RPC needs --hosts: on one machine it would listen on 127.0.0.1 anyway")
	case t.TxIndex != "" && t.TxIndex != TxIndexKV && t.TxIndex != TxIndexNull:
		return fmt.Errorf("tx index %q is not %q or %q", t.TxIndex, TxIndexKV, TxIndexNull)
	}
	for i, h := range t.Hosts {
		if strings.TrimSpace(h) == "" {
			return fmt.Errorf("host %d is empty", i)
		}
	}
	for i := range t.Validators {
		if dir := t.nodeDir(i); exists(dir) {
			return fmt.Errorf("testnet already exists at %s (remove %s to start a new chain)", t.OutDir, dir)
		}
	}
	return nil
}

func (t Testnet) nodeDir(i int) string { return filepath.Join(t.OutDir, moniker(i)) }

// removeNodes undoes a failed WriteTestnet; check made sure none of these
// directories existed before, so nothing of the caller's is lost.
func (t Testnet) removeNodes() {
	for i := range t.Validators {
		_ = os.RemoveAll(t.nodeDir(i))
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// makeNodes creates every home and its keys and assigns ports per host.
func (t Testnet) makeNodes() ([]testnetNode, error) {
	perHost := map[string]int{}
	nodes := make([]testnetNode, t.Validators)
	for i := range nodes {
		host := defaultListenHost
		if len(t.Hosts) > 0 {
			host = strings.TrimSpace(t.Hosts[i])
		}
		k := perHost[host]
		perHost[host]++
		home := Home(t.nodeDir(i))
		keys, err := initKeys(home)
		if err != nil {
			return nil, err
		}
		nodes[i] = testnetNode{home: home, host: host, keys: keys,
			ports: Ports{P2P: t.BasePort + 2*k, RPC: t.BasePort + 2*k + 1}}
	}
	return nodes, nil
}

func (t Testnet) genesis(nodes []testnetNode) (*types.GenesisDoc, error) {
	vals := make([]types.GenesisValidator, len(nodes))
	for i, n := range nodes {
		vals[i] = n.keys.validator(moniker(i))
	}
	var appState json.RawMessage
	if t.AppState != nil {
		var err error
		if appState, err = t.AppState(vals); err != nil {
			return nil, fmt.Errorf("building genesis app state: %w", err)
		}
	}
	return newGenesis(t.ChainID, vals, appState), nil
}

func (t Testnet) nodeConfig(nodes []testnetNode, self int) nodeConfig {
	nc := nodeConfig{Moniker: moniker(self), P2PHost: defaultListenHost, RPCHost: defaultListenHost,
		TxIndex: t.TxIndex, Ports: nodes[self].ports, Timing: t.Timing}
	if len(t.Hosts) > 0 {
		// The host's own address rather than 0.0.0.0: only the interface
		// peers dial is exposed (behind NAT, set p2p.laddr by hand).
		nc.P2PHost = nodes[self].host
		nc.ExternalHost = nodes[self].host
	}
	if t.PublicRPC {
		nc.RPCHost = nodes[self].host
		nc.PublicRPC = true
	}
	peers := make([]string, 0, len(nodes)-1)
	for i, n := range nodes {
		if i != self {
			peers = append(peers, string(n.keys.nodeID)+"@"+net.JoinHostPort(n.host, strconv.Itoa(n.ports.P2P)))
		}
	}
	nc.Peers = strings.Join(peers, ",")
	return nc
}

func moniker(i int) string { return "node" + strconv.Itoa(i) }
