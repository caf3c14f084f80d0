package node

import (
	"net"
	"time"

	cfg "github.com/cometbft/cometbft/config"
)

// Bounds on CometBFT's RPC server, written into every config.toml so an
// operator sees (and can change) them. Our own clients need little: the CLI
// and client send broadcast_tx_sync and poll `tx` by hash, relays send
// JSON-RPC batches of block/commit/validators/abci_query. Nothing of ours
// subscribes to events over RPC or calls broadcast_tx_commit, tx_search or
// block_search.
const (
	// rpcMaxOpenConnections caps simultaneous HTTP and WebSocket
	// connections (CometBFT: 900). A validator serves its operator's relays
	// and CLI, not the public; keeping it well below the default file
	// descriptor limit leaves room for P2P, WAL and databases.
	rpcMaxOpenConnections = 256
	// rpcMaxBodyBytes caps one request (CometBFT: 1 MB). The largest thing
	// we send is a transaction in broadcast_tx_sync: up to the mempool's
	// max_tx_bytes (1 MiB), base64 in JSON (4/3 of that), plus envelope.
	rpcMaxBodyBytes = 2 << 20
	// rpcMaxHeaderBytes caps request headers (CometBFT: 1 MiB, net/http's
	// default). Our clients send a few hundred bytes; 64 KiB leaves room for
	// a reverse proxy's forwarding and auth headers.
	rpcMaxHeaderBytes = 64 << 10
	// rpcTimeoutBroadcastTxCommit bounds how long one broadcast_tx_commit
	// holds a subscription and a connection (CometBFT: 10 s). Two and a half
	// dev blocks is enough for a local script; longer waits belong in the
	// client (broadcast_tx_sync and poll `tx`, as ours does).
	rpcTimeoutBroadcastTxCommit = 5 * time.Second
	// rpcMaxSubscriptionClients caps distinct /subscribe clients, each of
	// which also bounds concurrent broadcast_tx_commit calls (CometBFT: 100,
	// which is how 100 slow callers lock everyone else out). Loopback only:
	// scripts and tests on the machine.
	rpcMaxSubscriptionClients = 10
	// rpcMaxSubscriptionsPerClient caps the queries one client may follow
	// (CometBFT: 5).
	rpcMaxSubscriptionsPerClient = 2
	// rpcMaxRequestBatchSize keeps CometBFT's 10: relay.DefaultRPCBatch is
	// sized to it, and a batch is still one request against max_body_bytes.
	rpcMaxRequestBatchSize = 10
)

// Tx indexers. "kv" serves `tx` by hash (what our commands need) but also
// tx_search and block_search, whose range queries ("tx.height>0") scan the
// whole index: seconds of CPU per request, and CometBFT has no setting that
// turns the searches off while keeping `tx`. "null" refuses all three at
// once, before touching any store.
const (
	TxIndexKV   = "kv"
	TxIndexNull = "null"
)

// applyRPCBounds writes the RPC bounds into c. A public RPC additionally
// refuses subscriptions (and so broadcast_tx_commit): nothing of ours uses
// them, and each one costs the node a goroutine and a buffer per event.
func applyRPCBounds(c *cfg.Config, public bool) {
	r := c.RPC
	r.Unsafe = false
	r.MaxOpenConnections = rpcMaxOpenConnections
	r.MaxBodyBytes = rpcMaxBodyBytes
	r.MaxHeaderBytes = rpcMaxHeaderBytes
	r.TimeoutBroadcastTxCommit = rpcTimeoutBroadcastTxCommit
	r.MaxRequestBatchSize = rpcMaxRequestBatchSize
	r.MaxSubscriptionClients = rpcMaxSubscriptionClients
	r.MaxSubscriptionsPerClient = rpcMaxSubscriptionsPerClient
	if public {
		r.MaxSubscriptionClients = 0
		r.MaxSubscriptionsPerClient = 0
	}
	// The pprof server would expose goroutine dumps and CPU profiles.
	r.PprofListenAddress = ""
}

// publicRPC reports whether RPC serves beyond this machine: the operator
// said so, or it listens on an address others can reach.
func (nc nodeConfig) publicRPC() bool { return nc.PublicRPC || !isLoopback(nc.RPCHost) }

// txIndex picks the indexer: what was asked for, else kv for a loopback
// RPC and null for a public one (see TxIndexKV).
func (nc nodeConfig) txIndex() string {
	switch {
	case nc.TxIndex != "":
		return nc.TxIndex
	case nc.publicRPC():
		return TxIndexNull
	}
	return TxIndexKV
}

// isLoopback reports whether host only accepts connections from this
// machine; a name other than localhost is assumed to resolve elsewhere.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
