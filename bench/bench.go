// Package bench measures how many signed PHA transfers a single in-process
// validator commits per second, next to the same measure for a trivial
// CometBFT application (accept everything, keep no state) run with the same
// node configuration and transaction size, so the cost of the chain's own
// logic shows as a ratio. A second baseline, the signed trivial application
// (SignedTrivialApp), also verifies each transaction's ed25519 signature the
// way phala does and nothing else: the floor for a signed transaction, so
// the ratio to it is the cost of everything but the signature.
//
// Each run lays out a fresh single-validator home, starts the node with the
// null indexer, and feeds transactions straight into the node's mempool for
// a fixed window. Transfers are signed before the clock starts: signing is
// the client's cost, not the chain's. A transaction counts when it executed
// with code 0 in a block whose commit was seen within the window.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/node"
)

// ChainID names the benchmark's throwaway chains.
const ChainID = "phala-bench"

// Defaults of Options.
const (
	DefaultDuration = 10 * time.Second
	DefaultAccounts = 2000
)

// presignRate sizes the set of transfers signed before the clock starts:
// Duration × presignRate, well above what two cores commit, so the feeder
// does not run dry (Result.Exhausted says if it did).
const presignRate = 20_000

// Options configure one run.
type Options struct {
	// Duration is the measured window (default DefaultDuration).
	Duration time.Duration
	// Accounts is the number of funded senders (default DefaultAccounts).
	// Each sends its transfers in nonce order, round-robin with the others.
	Accounts int
	// Progress receives a line per second while the window is open; nil is silent.
	Progress io.Writer
	// Timing are the consensus timeouts (zero: Timing()). Use the same for
	// both applications.
	Timing node.Timing
	// Dir is the node home to create and keep (it must be empty or absent);
	// empty means a temporary directory removed when the run ends.
	Dir string
	// Feeders is the number of goroutines submitting to the mempool at
	// once, as concurrent RPC clients and peers do; senders are split
	// between them, so each sender's nonces stay in order. Default 1: the
	// node's local ABCI client runs one call at a time; only an
	// application's PreCheckTx (node.PreChecker) runs outside that lock, so
	// with phala two feeders verify two signatures at once, which on two
	// cores is within the run-to-run noise of one (see README, Performance).
	Feeders int
}

// Timing is the block timing the benchmark uses unless told otherwise.
// Empty blocks stay on so both applications see the same block cadence.
func Timing() node.Timing {
	return node.Timing{
		TimeoutPropose:    time.Second,
		TimeoutCommit:     100 * time.Millisecond,
		CreateEmptyBlocks: true,
	}
}

func (o Options) withDefaults() Options {
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.Accounts <= 0 {
		o.Accounts = DefaultAccounts
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Timing == (node.Timing{}) {
		o.Timing = Timing()
	}
	if o.Feeders <= 0 {
		o.Feeders = 1
	}
	o.Feeders = min(o.Feeders, o.Accounts)
	return o
}

// Result is what one run measured.
type Result struct {
	// Committed counts transactions that executed with code 0 in blocks
	// committed within the window.
	Committed int `json:"committed"`
	// Failed counts transactions with a non-zero code in those blocks.
	Failed int `json:"failed"`
	// Rejected counts transactions the application refused in CheckTx.
	Rejected int `json:"rejected"`
	// Submitted counts transactions the mempool accepted during the window.
	Submitted int           `json:"submitted"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	// PerSecond is Committed / Elapsed.
	PerSecond float64 `json:"per_second"`
	// Blocks counts blocks committed within the window, MaxBlockTxs the
	// largest of them.
	Blocks      int `json:"blocks"`
	MaxBlockTxs int `json:"max_block_txs"`
	// TxBytes is the size of one transaction.
	TxBytes int `json:"tx_bytes"`
	// Exhausted reports that the pre-signed transactions ran out before the
	// window closed, so the rate is a lower bound.
	Exhausted bool `json:"exhausted"`
	// App is the time the application spent in its ABCI calls during the window.
	App AppTime `json:"app"`
	// CPU is the CPU time the whole process (node, application and
	// feeder) used during the window.
	CPU time.Duration `json:"cpu_ns"`
}

// CPUPerTx is the process CPU time per committed transaction: with other
// load on the machine it varies far less than PerSecond.
func (r Result) CPUPerTx() time.Duration {
	if r.Committed == 0 {
		return 0
	}
	return (r.CPU / time.Duration(r.Committed)).Round(100 * time.Nanosecond)
}

// Transfers measures committed signed transfers per second on the phala
// application (see the package comment).
func Transfers(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	senders := newSenders(o.Accounts)
	appState, err := genesisAppState(senders)
	if err != nil {
		return Result{}, err
	}
	fee, err := transferFee()
	if err != nil {
		return Result{}, err
	}
	count := max(int(o.Duration.Seconds()*presignRate), len(senders))
	fmt.Fprintf(o.Progress, "transfers: signing %d transfers from %d accounts\n", count, len(senders))
	start := time.Now()
	txs, err := signTransfers(ctx, senders, count, fee)
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(o.Progress, "transfers: signed in %s\n", time.Since(start).Round(time.Millisecond))

	home, cleanup, err := layout(o, appState)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	a, err := app.New(ChainID, home.AppDataDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		return Result{}, err
	}
	timed := &timedApp{Application: a}
	n, err := node.Start(ctx, home, timed, startOptions()...)
	if err != nil {
		return Result{}, errors.Join(err, a.Close())
	}
	res, err := measure(ctx, "transfers", o, n, timed, splitBySender(txs, len(senders), o.Feeders))
	res.TxBytes = len(txs[len(txs)/2])
	// Consensus first, then the store it writes to.
	return res, errors.Join(err, n.Stop(), a.Close())
}

// Trivial measures the same for an application that accepts every
// transaction and keeps no state, fed random transactions of the size of a
// signed transfer, with the same node configuration.
func Trivial(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	size, err := TransferSize()
	if err != nil {
		return Result{}, err
	}
	home, cleanup, err := layout(o, nil)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	timed := &timedApp{Application: TrivialApp{}}
	n, err := node.Start(ctx, home, timed, startOptions()...)
	if err != nil {
		return Result{}, err
	}
	sources := make([]func() []byte, o.Feeders)
	for i := range sources {
		rng := rand.NewChaCha8([32]byte{byte(i)})
		sources[i] = func() []byte {
			b := make([]byte, size)
			_, _ = rng.Read(b)
			return b
		}
	}
	res, err := measure(ctx, "trivial", o, n, timed, sources)
	res.TxBytes = size
	return res, errors.Join(err, n.Stop())
}

// startOptions are the run-time settings both applications share.
func startOptions() []node.StartOption {
	return []node.StartOption{node.WithIndexer("null"), node.WithLogLevel("error")}
}

// layout creates the node home: a single validator whose genesis carries
// appState, with o.Timing written to its config.
func layout(o Options, appState []byte) (node.Home, func(), error) {
	dir, cleanup := o.Dir, func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "phala-bench-")
		if err != nil {
			return "", nil, err
		}
		dir, cleanup = tmp, func() { _ = os.RemoveAll(tmp) }
	}
	ports, err := node.FreePorts()
	if err == nil {
		err = node.InitSingle(node.Home(dir), node.InitOptions{ChainID: ChainID, AppState: appState, Ports: ports, Timing: o.Timing})
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return node.Home(dir), cleanup, nil
}
