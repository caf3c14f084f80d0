package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/bench"
	"github.com/phala-go/phala/vm/wasmbuild"
)

func benchContractsCmd() *cobra.Command {
	var (
		o      bench.ContractsOptions
		code   string
		source string
	)
	cmd := &cobra.Command{
		Use:   "contracts",
		Short: "Encrypted commands per second, submit-to-receipt latency, query latency and throughput, and a worker's restart, on an in-process devnet",
		Long: `Starts a development network in process (one validator with the devnet's
timing, a gatekeeper and two sim-TEE workers in the default cluster), deploys
the token contract and measures, against the targets of issue 14:

  commands  encrypted token transfers, sealed and signed first, fed to the
            mempool at once; counted when the workers' results for their
            block settle on chain with status ok
  latency   one transfer at a time, from submission to its receipt
  queries   signed balance queries over HTTP to one worker with the Go
            client (query sessions): one caller, then --callers at once
  restart   --contracts contracts deployed, one worker restarted: the time
            from its start to its first answered query

The token is built from --source (default contracts/token, from the
repository's root) unless --code names a built module. Progress goes to
stderr; the whole run takes two to four minutes.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var err error
			if o.Code, err = contractCode(ctx, code, source); err != nil {
				return err
			}
			o.Progress = os.Stderr
			res, err := bench.Contracts(ctx, o)
			if err != nil {
				return err
			}
			return emit(res, func() string { return contractsBenchText(res) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&code, "code", "", "a built token module (.wasm) instead of building --source")
	f.StringVar(&source, "source", filepath.Join("contracts", "token"), "the token contract's source directory")
	f.IntVar(&o.Commands, "commands", 0, "transfers in the throughput run (default 3000)")
	f.IntVar(&o.Senders, "senders", 0, "funded sending accounts (default 100)")
	f.IntVar(&o.LatencyCommands, "latency-commands", 0, "transfers sent one at a time (default 20)")
	f.IntVar(&o.Queries, "queries", 0, "queries of the one-caller run (default 300)")
	f.IntVar(&o.Callers, "callers", 0, "concurrent callers of the throughput run (default 32)")
	f.DurationVar(&o.QueryDuration, "query-duration", 0, "length of the concurrent query run (default 5s)")
	f.IntVar(&o.Contracts, "contracts", 0, "contracts the restarted worker holds (default 200)")
	return cmd
}

// contractCode reads a built module, or builds the source directory.
func contractCode(ctx context.Context, code, source string) ([]byte, error) {
	if code != "" {
		return os.ReadFile(code)
	}
	tmp, err := os.MkdirTemp("", "phala-bench-code-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(os.Stderr, "building %s\n", source)
	res, err := wasmbuild.Build(ctx, source, filepath.Join(tmp, "token.wasm"))
	if err != nil {
		return nil, fmt.Errorf("build the token (run from the repository's root, or pass --code or --source): %w", err)
	}
	return os.ReadFile(res.Path)
}

// verdict says whether a figure met its target.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func contractsBenchText(r bench.ContractsResult) string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	c := r.Commands
	fmt.Fprintf(&b, "commands   %8.0f /s   target >= %d   %s  (%d ok, %d failed, of %d; %d blocks, %s; %s process CPU per command)\n",
		c.PerSecond, bench.TargetCommandsPerSecond, verdict(c.PerSecond >= bench.TargetCommandsPerSecond),
		c.SettledOK, c.Failed, c.Submitted, c.Blocks, c.Elapsed.Round(time.Millisecond), perCommand(c))
	l := r.Latency
	limit := l.BlockInterval + bench.TargetLatencyOverBlock
	fmt.Fprintf(&b, "latency    p50 %s, p99 %s   target p50 < block interval + 50 ms = %s   %s  (%d commands; in a block after %s)\n",
		ms(l.P50), ms(l.P99), ms(limit), verdict(l.P50 < limit), l.Count, ms(l.Included))
	q := r.Queries
	fmt.Fprintf(&b, "queries    1 caller: p50 %s, p99 %s   target p50 < %s, p99 < %s   %s  (%d queries)\n",
		ms(q.P50), ms(q.P99), ms(bench.TargetQueryP50), ms(bench.TargetQueryP99), verdict(q.P50 < bench.TargetQueryP50 && q.P99 < bench.TargetQueryP99), q.OneCallerCount)
	fmt.Fprintf(&b, "queries    %d callers: %.0f /s   target >= %d   %s  (%d answered, %d refused, %s; %s process CPU per query)\n",
		q.Callers, q.PerSecond, bench.TargetQueriesPerSecond, verdict(q.PerSecond >= bench.TargetQueriesPerSecond), q.Answered, q.Refused, q.Elapsed.Round(time.Millisecond), q.CPU.Round(time.Microsecond))
	s := r.Restart
	fmt.Fprintf(&b, "restart    %d contracts: first query %s after the start   target < %s   %s  (runtime open %s, stop %s)",
		s.Contracts, ms(s.FirstQuery), bench.TargetRestart, verdict(s.FirstQuery < bench.TargetRestart), ms(s.Open), ms(s.Stop))
	return b.String()
}

func perCommand(c bench.CommandsResult) time.Duration {
	if c.SettledOK == 0 {
		return 0
	}
	return (c.CPU / time.Duration(c.SettledOK)).Round(time.Microsecond)
}
