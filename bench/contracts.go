package bench

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/node"
)

// The contracts benchmark (issue 14, Performance) runs on an in-process
// development network as `phala devnet` lays it out (one validator with
// the devnet's timing, a gatekeeper and two sim-TEE workers in the
// default cluster, each with its relay), with the benchmark's senders
// funded at genesis, and the token contract deployed:
//
//   - commands: encrypted token transfers, sealed and signed before the
//     clock starts, fed to the validator's mempool at once; a command
//     counts once the workers' results for its block settled on chain
//     with status ok. The rate is those commands over the time from the
//     first submission to the last settlement.
//   - latency: one transfer at a time through the Go client, from the
//     call to its receipt opened from a worker.
//   - queries: signed token balance queries over HTTP to one worker with
//     the Go client (query sessions), one caller in a row, then 32
//     callers at once.
//   - restart: 200 contracts deployed, one worker stopped and started
//     again; the time from the start to its first answered query.

// Targets of issue 14.
const (
	TargetCommandsPerSecond = 1000
	TargetLatencyOverBlock  = 50 * time.Millisecond
	TargetQueryP50          = 2 * time.Millisecond
	TargetQueryP99          = 10 * time.Millisecond
	TargetQueriesPerSecond  = 3000
	TargetRestart           = 2 * time.Second
)

// ContractsOptions configure the contracts benchmark.
type ContractsOptions struct {
	// Code is the token contract's module (contracts/token, built).
	Code []byte
	// Commands is the transfers of the throughput run (default 3000), from
	// Senders accounts (default 100).
	Commands int
	Senders  int
	// LatencyCommands is the transfers sent one at a time (default 20).
	LatencyCommands int
	// Queries is the queries of the one-caller run (default 300: under
	// the per-caller rate limit's burst); QueryDuration the 32-caller
	// run's length (default 5 s) and Callers its callers (default 32).
	Queries       int
	QueryDuration time.Duration
	Callers       int
	// Contracts is how many contracts the restarted worker holds
	// (default 200).
	Contracts int
	// Dir is the devnet home to create and keep; empty: a temporary one.
	Dir      string
	Progress io.Writer
}

func (o ContractsOptions) withDefaults() ContractsOptions {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&o.Commands, 3000)
	set(&o.Senders, 100)
	set(&o.LatencyCommands, 20)
	set(&o.Queries, 300)
	set(&o.Callers, 32)
	set(&o.Contracts, 200)
	if o.QueryDuration <= 0 {
		o.QueryDuration = 5 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// ContractsResult is what one run measured.
type ContractsResult struct {
	Commands CommandsResult `json:"commands"`
	Latency  LatencyResult  `json:"latency"`
	Queries  QueriesResult  `json:"queries"`
	Restart  RestartResult  `json:"restart"`
}

// CommandsResult is the throughput run.
type CommandsResult struct {
	Submitted int           `json:"submitted"`
	SettledOK int           `json:"settled_ok"`
	Failed    int           `json:"failed"` // settled with another status
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"per_second"`
	Blocks    int           `json:"blocks"` // blocks the commands went into
	CPU       time.Duration `json:"cpu_ns"` // the process's, over the run
}

// LatencyResult is the submit-to-receipt run.
type LatencyResult struct {
	Count         int           `json:"count"`
	P50           time.Duration `json:"p50_ns"`
	P99           time.Duration `json:"p99_ns"`
	BlockInterval time.Duration `json:"block_interval_ns"`
	// Included is the median time from submission to the transaction
	// found in a committed block: the rest of P50 is the relay, the
	// worker and the receipt's fetch.
	Included time.Duration `json:"included_p50_ns"`
}

// QueriesResult is the query runs.
type QueriesResult struct {
	OneCallerCount int           `json:"one_caller_count"`
	P50            time.Duration `json:"p50_ns"`
	P99            time.Duration `json:"p99_ns"`
	Callers        int           `json:"callers"`
	Answered       int           `json:"answered"`
	Refused        int           `json:"refused"`
	Elapsed        time.Duration `json:"elapsed_ns"`
	PerSecond      float64       `json:"per_second"`
	// CPU is the process's CPU time per answered query of the
	// concurrent run: client, HTTP server and worker together, as they
	// share the machine.
	CPU time.Duration `json:"cpu_per_query_ns"`
}

// RestartResult is the restart run.
type RestartResult struct {
	Contracts  int           `json:"contracts"`
	Stop       time.Duration `json:"stop_ns"`
	FirstQuery time.Duration `json:"first_query_ns"` // from the start call
	Open       time.Duration `json:"open_ns"`        // of which the runtime's start
}

// contractsBench is a running devnet with the token deployed.
type contractsBench struct {
	o        ContractsOptions
	home     node.Home
	v        *network.Validator
	cl       *client.Client
	gk       *devworker.Worker
	workers  []*devworker.Worker
	senders  []sender
	contract contractHandle
	log      *slog.Logger
}

// Contracts runs the contracts benchmark (see the comment above).
func Contracts(ctx context.Context, o ContractsOptions) (ContractsResult, error) {
	o = o.withDefaults()
	if len(o.Code) == 0 {
		return ContractsResult{}, errors.New("contracts benchmark: no contract code (build contracts/token)")
	}
	b, cleanup, err := startContractsBench(ctx, o)
	if err != nil {
		return ContractsResult{}, err
	}
	defer cleanup()
	var res ContractsResult
	if res.Commands, err = b.commands(ctx); err != nil {
		return res, fmt.Errorf("commands: %w", err)
	}
	if res.Latency, err = b.latency(ctx); err != nil {
		return res, fmt.Errorf("latency: %w", err)
	}
	if res.Queries, err = b.queries(ctx); err != nil {
		return res, fmt.Errorf("queries: %w", err)
	}
	if res.Restart, err = b.restart(ctx); err != nil {
		return res, fmt.Errorf("restart: %w", err)
	}
	return res, nil
}

// startContractsBench lays out and starts the devnet, sets up the
// cluster and deploys the token; cleanup stops everything.
func startContractsBench(ctx context.Context, o ContractsOptions) (*contractsBench, func(), error) {
	b := &contractsBench{o: o, senders: newSenders(o.Senders), log: slog.New(slog.DiscardHandler)}
	dir, cleanup := o.Dir, func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "phala-bench-contracts-")
		if err != nil {
			return nil, nil, err
		}
		dir, cleanup = tmp, func() { _ = os.RemoveAll(tmp) }
	}
	b.home = node.Home(filepath.Join(dir, "home"))
	appState, err := genesisAppState(b.senders)
	if err == nil {
		var ports node.Ports
		if ports, err = node.FreePorts(); err == nil {
			err = node.InitSingle(b.home, node.InitOptions{ChainID: network.DevnetChainID, AppState: appState, Ports: ports, Timing: node.DevTiming()})
		}
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	fmt.Fprintf(o.Progress, "contracts: starting a devnet (validator, gatekeeper, two workers) in %s\n", dir)
	if b.v, err = network.Start(ctx, b.home, b.log, node.WithLogLevel("error")); err != nil {
		cleanup()
		return nil, nil, err
	}
	stop := func() {
		for _, w := range append(b.workers, b.gk) {
			if w != nil {
				_ = w.Stop()
			}
		}
		_ = b.v.Stop()
		cleanup()
	}
	if err := b.startTEE(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	if b.contract, err = b.deploy(ctx, b.senders[0], nil, fmt.Sprintf(`{"supply":%d}`, uint64(1)<<40)); err != nil {
		stop()
		return nil, nil, fmt.Errorf("deploy the token: %w", err)
	}
	return b, stop, nil
}

func (b *contractsBench) startTEE(ctx context.Context) error {
	var err error
	if b.gk, err = devworker.Start(b.home, b.v, devworker.GatekeeperRole, b.log); err != nil {
		return err
	}
	for _, r := range devworker.WorkerRoles {
		w, err := devworker.Start(b.home, b.v, r, b.log)
		if err != nil {
			return err
		}
		b.workers = append(b.workers, w)
	}
	var keys []ed25519.PublicKey
	for _, w := range append([]*devworker.Worker{b.gk}, b.workers...) {
		if err := w.WaitRegistered(ctx); err != nil {
			return err
		}
	}
	for _, w := range b.workers {
		keys = append(keys, w.Runtime.Status().IdentityKey)
	}
	if b.cl, err = client.New(b.v.Node.RPCURL()); err != nil {
		return err
	}
	if _, err := devworker.SetUpCluster(ctx, b.cl, keys...); err != nil {
		return err
	}
	_, err = b.cl.ChainID(ctx) // once, before callers share the client
	return err
}

func (b *contractsBench) workerURLs() []string {
	urls := make([]string, len(b.workers))
	for i, w := range b.workers {
		urls[i] = w.PublicURL()
	}
	return urls
}
