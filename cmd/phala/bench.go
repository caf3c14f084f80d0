package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks"}
	cmd.AddCommand(benchTransfersCmd(), benchContractsCmd())
	return cmd
}

type benchJSON struct {
	TrivialPerSecond       float64 `json:"trivial_per_second"`
	SignedTrivialPerSecond float64 `json:"signed_trivial_per_second"`
	TransfersPerSecond     float64 `json:"transfers_per_second"`
	// Ratio is transfers / trivial, RatioSigned transfers / signed trivial.
	Ratio         float64      `json:"ratio"`
	RatioSigned   float64      `json:"ratio_signed"`
	Duration      string       `json:"duration"`
	Accounts      int          `json:"accounts"`
	TxBytes       int          `json:"tx_bytes"`
	TimeoutCommit string       `json:"timeout_commit"`
	Trivial       bench.Result `json:"trivial"`
	SignedTrivial bench.Result `json:"signed_trivial"`
	Transfers     bench.Result `json:"transfers"`
}

func benchTransfersCmd() *cobra.Command {
	var (
		o             bench.Options
		timeoutCommit time.Duration
		cpuProfile    string
	)
	cmd := &cobra.Command{
		Use:   "transfers",
		Short: "Committed signed transfers per second on an in-process validator, next to a trivial application",
		Long: `Runs a fresh single validator three times with the same node configuration
and transaction size: first with a trivial application (accepts everything,
no state), then with a signed trivial application (verifies each
transaction's ed25519 signature as phala does, and nothing else: the floor
for a signed transaction), then with phala fed pre-signed transfers. Each
run feeds the mempool for --duration and counts the transactions committed
successfully in that window; phala's rate is given as a ratio to both
baselines. Progress goes to stderr. The runs together take about three
times --duration plus 20 s of start-up, signing and draining, which the
command says before it starts.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.Progress = os.Stderr
			fmt.Fprintf(os.Stderr, "three runs (a trivial application, a signed trivial one, then phala), %s of feeding each: about %s in all\n",
				o.Duration, expectedBenchTime(o.Duration).Round(time.Second))
			o.Timing = bench.Timing()
			if timeoutCommit > 0 {
				o.Timing.TimeoutCommit = timeoutCommit
			}
			trivial, err := profiled(cpuProfile, "trivial", func() (bench.Result, error) { return bench.Trivial(ctx, o) })
			if err != nil {
				return err
			}
			signed, err := profiled(cpuProfile, "signed-trivial", func() (bench.Result, error) { return bench.SignedTrivial(ctx, o) })
			if err != nil {
				return err
			}
			ours, err := profiled(cpuProfile, "transfers", func() (bench.Result, error) { return bench.Transfers(ctx, o) })
			if err != nil {
				return err
			}
			return printBench(o, trivial, signed, ours)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.Duration, "duration", bench.DefaultDuration, "measured window of each run")
	f.IntVar(&o.Accounts, "accounts", bench.DefaultAccounts, "number of funded sending accounts")
	f.IntVar(&o.Feeders, "feeders", 0, "goroutines submitting to the mempool at once (default 1)")
	f.DurationVar(&timeoutCommit, "timeout-commit", 0, fmt.Sprintf("consensus timeout_commit for both runs (default %s)", bench.Timing().TimeoutCommit))
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of each run to FILE.trivial, FILE.signed-trivial and FILE.transfers")
	return cmd
}

// expectedBenchTime is how long the three runs take: each feeds for d
// after a node starts and its transactions are signed, then drains.
func expectedBenchTime(d time.Duration) time.Duration { return 3*d + 20*time.Second }

// profiled runs f, writing a CPU profile to file.suffix if file is set.
func profiled(file, suffix string, f func() (bench.Result, error)) (bench.Result, error) {
	if file == "" {
		return f()
	}
	out, err := os.Create(file + "." + suffix)
	if err != nil {
		return bench.Result{}, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return bench.Result{}, err
	}
	res, err := f()
	pprof.StopCPUProfile()
	return res, errors.Join(err, out.Close())
}

// benchRatio is ours / base, 0 when base committed nothing.
func benchRatio(ours, base bench.Result) float64 {
	if base.PerSecond <= 0 {
		return 0
	}
	return ours.PerSecond / base.PerSecond
}

func printBench(o bench.Options, trivial, signed, ours bench.Result) error {
	ratio, ratioSigned := benchRatio(ours, trivial), benchRatio(ours, signed)
	out := benchJSON{
		TrivialPerSecond: trivial.PerSecond, SignedTrivialPerSecond: signed.PerSecond, TransfersPerSecond: ours.PerSecond,
		Ratio: ratio, RatioSigned: ratioSigned,
		Duration: o.Duration.String(), Accounts: o.Accounts, TxBytes: ours.TxBytes,
		TimeoutCommit: o.Timing.TimeoutCommit.String(), Trivial: trivial, SignedTrivial: signed, Transfers: ours,
	}
	return emit(out, func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "%d-byte transactions, %s per run, timeout_commit %s, %d sending accounts, %d feeders\n",
			ours.TxBytes, o.Duration, o.Timing.TimeoutCommit, o.Accounts, max(o.Feeders, 1))
		line := func(name string, r bench.Result) {
			fmt.Fprintf(&b, "%-18s %8.0f tx/s  (%d committed, %d blocks, largest %d txs, %s process CPU per tx",
				name, r.PerSecond, r.Committed, r.Blocks, r.MaxBlockTxs, r.CPUPerTx())
			if r.Failed > 0 || r.Rejected > 0 {
				fmt.Fprintf(&b, ", %d failed, %d rejected", r.Failed, r.Rejected)
			}
			if r.Exhausted {
				b.WriteString(", ran out of transactions: a lower bound")
			}
			b.WriteString(")\n")
		}
		line("trivial app", trivial)
		line("signed trivial app", signed)
		line("signed transfers", ours)
		fmt.Fprintf(&b, "ratio              %8.2f  transfers / trivial\n", ratio)
		fmt.Fprintf(&b, "ratio signed       %8.2f  transfers / signed trivial", ratioSigned)
		return b.String()
	})
}
