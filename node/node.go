package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/libs/service"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"
)

// Node is a CometBFT node running in this process.
type Node struct {
	home    Home
	comet   *cmtnode.Node
	dbs     *stores
	logFile *os.File
	damage  *damage
	halt    haltWatch

	stopOnce sync.Once
	stopErr  error
}

// StartOption adjusts the loaded config for this run only (config.toml is not rewritten).
type StartOption func(*startOptions)

type startOptions struct {
	indexer  string
	timing   *Timing
	logLevel string
}

// WithIndexer sets tx_index.indexer, e.g. "null" for benchmarks.
func WithIndexer(indexer string) StartOption {
	return func(o *startOptions) { o.indexer = indexer }
}

// WithTiming overrides the consensus timeouts from config.toml.
func WithTiming(t Timing) StartOption {
	return func(o *startOptions) { o.timing = &t }
}

// WithLogLevel sets the level of cometbft.log: "debug", "info", "error" or "none".
func WithLogLevel(level string) StartOption {
	return func(o *startOptions) { o.logLevel = level }
}

func (o startOptions) apply(c *cfg.Config) {
	if o.indexer != "" {
		c.TxIndex.Indexer = o.indexer
	}
	if o.timing != nil {
		o.timing.apply(c)
	}
	if o.logLevel != "" {
		c.LogLevel = o.logLevel
	}
}

// Start opens the node at home with app behind a local ABCI client (one lock
// over all calls; see PreChecker for the one exception) and starts it. ctx bounds start-up only (handshake and block replay); the node then
// runs until Stop.
func Start(ctx context.Context, home Home, app abci.Application, opts ...StartOption) (*Node, error) {
	if !home.Exists() {
		return nil, home.errNoHome()
	}
	c, err := startConfig(home, opts)
	if err != nil {
		return nil, err
	}
	if err := checkListenAddrsFree([]listenAddr{{"rpc", c.RPC.ListenAddress}, {"p2p", c.P2P.ListenAddress}}); err != nil {
		return nil, fmt.Errorf("starting node at %s: %w", home.Dir(), err)
	}
	gen, genBytes, err := loadGenesis(home)
	if err != nil {
		return nil, err
	}
	if err := home.ensureDirs(); err != nil {
		return nil, err
	}
	if err := checkBeforeStart(home, c, app); err != nil {
		return nil, fmt.Errorf("starting node at %s: %w", home.Dir(), err)
	}
	nodeKey, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil || nodeKey.PrivKey == nil {
		return nil, fmt.Errorf("node key %s is invalid: %w", c.NodeKeyFile(), errOr(err, "no priv_key"))
	}
	pv, err := loadPrivValidator(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	if err != nil {
		return nil, err
	}
	logger, logFile, err := openLog(home, c.LogLevel)
	if err != nil {
		return nil, err
	}
	genProvider := func() (cmtnode.ChecksummedGenesisDoc, error) {
		return cmtnode.ChecksummedGenesisDoc{GenesisDoc: gen, Sha256Checksum: tmhash.Sum(genBytes)}, nil
	}
	dmg := &damage{}
	dbs := &stores{logger: logger, onCorrupt: func(err error) { logger.Error(err.Error()); dmg.report(err) }}
	var comet *cmtnode.Node
	err = catch("starting CometBFT", func() (err error) {
		comet, err = cmtnode.NewNode(ctx, c, pv, nodeKey, newClientCreator(app),
			genProvider, dbs.open, cmtnode.DefaultMetricsProvider(c.Instrumentation), logger)
		if err == nil {
			err = startComet(comet)
		}
		return err
	})
	if err != nil {
		dbs.closeAll()
		logFile.Close()
		return nil, fmt.Errorf("starting node at %s (see %s): %w", home.Dir(), home.LogFile(), err)
	}
	n := &Node{home: home, comet: comet, dbs: dbs, logFile: logFile, damage: dmg}
	dmg.setStop(func() { _ = n.comet.Stop() })
	if h, ok := app.(Halter); ok {
		if err := n.watchHalt(h); err != nil {
			_ = n.Stop()
			return nil, fmt.Errorf("starting node at %s: %w", home.Dir(), err)
		}
	}
	return n, nil
}

func startConfig(home Home, opts []StartOption) (*cfg.Config, error) {
	c, err := loadConfig(home)
	if err != nil {
		return nil, err
	}
	var so startOptions
	for _, o := range opts {
		o(&so)
	}
	so.apply(c)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("config file %s is invalid: %w", home.ConfigFile(), err)
	}
	return c, nil
}

// startComet starts the node and, if that fails, stops what OnStart already
// started (listeners, reactors) so the home can be opened again in-process.
func startComet(comet *cmtnode.Node) error {
	err := comet.Start()
	if err != nil {
		_ = catch("cleaning up", func() error { comet.OnStop(); return nil })
		_ = comet.ProxyApp().Stop()
	}
	return err
}

func openLog(home Home, level string) (cmtlog.Logger, *os.File, error) {
	allow, err := cmtlog.AllowLevel(level)
	if err != nil {
		return nil, nil, fmt.Errorf("log level %q: %w", level, err)
	}
	f, err := os.OpenFile(home.LogFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("opening log: %w", err)
	}
	return cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(f)), allow), f, nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// Home is the home directory the node runs from.
func (n *Node) Home() Home { return n.home }

// Comet is the underlying node for in-process use (mempool, block store, event bus).
func (n *Node) Comet() *cmtnode.Node { return n.comet }

// ChainID is the chain id from genesis.
func (n *Node) ChainID() string { return n.comet.GenesisDoc().ChainID }

// Height is the latest committed block height in the block store.
func (n *Node) Height() int64 { return n.comet.BlockStore().Height() }

// Done is closed once the node has stopped, whether by Stop or on its own.
func (n *Node) Done() <-chan struct{} { return n.comet.Quit() }

// RPCURL is the HTTP address of the node's RPC server, usable from this machine.
func (n *Node) RPCURL() string { return rpcURL(n.comet.Config().RPC.ListenAddress) }

// rpcURL maps a listen address (tcp://0.0.0.0:26657) to a dialable URL.
func rpcURL(laddr string) string {
	u, err := url.Parse(laddr)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "http") {
		return laddr
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, u.Port())
}

// Stop stops the node and waits for it; later calls return the first result.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		if err := n.comet.Stop(); err != nil && !errors.Is(err, service.ErrAlreadyStopped) {
			n.stopErr = fmt.Errorf("stopping node: %w", err)
		}
		n.comet.Wait()
		// After each commit CometBFT updates and rechecks the mempool in a
		// goroutine of its own that Wait does not cover; it holds the mempool
		// lock throughout, so taking the lock waits for it. Closing the
		// application's store under a recheck would make it panic.
		mp := n.comet.Mempool()
		mp.Lock()
		mp.Unlock() //nolint:staticcheck // empty on purpose: taking the lock is the wait
		// CometBFT does not stop the ABCI connections; stopping them ends
		// their watchdog goroutine.
		_ = n.comet.ProxyApp().Stop()
		n.dbs.closeAll()
		// Damage is why the node stopped; it is the error to report.
		if err := n.damage.Err(); err != nil {
			n.stopErr = err
		} else if err := n.halt.Err(); err != nil {
			// The application stopped the node between blocks (an
			// upgrade): the reason is what the operator must act on.
			n.stopErr = err
		}
		if err := n.logFile.Close(); err != nil && n.stopErr == nil {
			n.stopErr = err
		}
	})
	return n.stopErr
}

// WaitHeight waits until the block store reaches height h, ctx ends, or the node stops.
func (n *Node) WaitHeight(ctx context.Context, h int64) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if n.Height() >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for height %d (at %d): %w", h, n.Height(), ctx.Err())
		case <-n.Done():
			return fmt.Errorf("node stopped at height %d before reaching %d", n.Height(), h)
		case <-tick.C:
		}
	}
}

// LoadGenesisAppState returns the chain id and raw app_state of home's genesis.
func LoadGenesisAppState(home Home) (chainID string, appState json.RawMessage, err error) {
	gen, _, err := loadGenesis(home)
	if err != nil {
		return "", nil, err
	}
	return gen.ChainID, gen.AppState, nil
}

// loadGenesis parses and validates genesis.json and also returns its bytes,
// whose hash CometBFT records and checks on every restart.
func loadGenesis(home Home) (*types.GenesisDoc, []byte, error) {
	b, err := os.ReadFile(home.GenesisFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, home.errNoHome()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading genesis: %w", err)
	}
	gen, err := types.GenesisDocFromJSON(b)
	if err != nil {
		return nil, nil, fmt.Errorf("genesis file %s is invalid: %w", home.GenesisFile(), err)
	}
	return gen, b, nil
}

// FreePort asks the OS for a TCP port on 127.0.0.1 that is free right now.
func FreePort() (int, error) {
	ports, err := pickPorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts picks a P2P and an RPC port for a node on loopback. Both
// listeners stay open until both are chosen, so the OS cannot hand out the
// same port twice (two FreePort calls can: the first is free again when the
// second asks).
func FreePorts() (Ports, error) {
	ports, err := pickPorts(2)
	if err != nil {
		return Ports{}, err
	}
	return Ports{P2P: ports[0], RPC: ports[1]}, nil
}

func pickPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// watchHalt stops the node once app halts (Halter), after CometBFT has
// recorded the last block.
func (n *Node) watchHalt(app Halter) error {
	sub, err := n.comet.EventBus().Subscribe(context.Background(), "phala-halt-watch", types.EventQueryNewBlockHeader, 16)
	if err != nil {
		return fmt.Errorf("watching blocks for a halt: %w", err)
	}
	blocks := make(chan int64)
	go func() {
		for {
			select {
			case msg := <-sub.Out():
				if hd, ok := msg.Data().(types.EventDataNewBlockHeader); ok {
					select {
					case blocks <- hd.Header.Height:
					case <-n.Done():
						return
					}
				}
			case <-sub.Canceled():
				return
			case <-n.Done():
				return
			}
		}
	}()
	go n.halt.watch(app, blocks, n.Height, n.Done(), func() { _ = n.comet.Stop() })
	return nil
}
