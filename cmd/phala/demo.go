package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/contracts"
	"github.com/phala-go/phala/demo"
)

func newDemoCmd() *cobra.Command {
	var (
		home, nodeURL string
		workers       []string
		timeout       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo [SCENARIO...] [--home DIR]",
		Short: "Run the example contracts' scenarios on a running devnet and check every step",
		Long: fmt.Sprintf(`Run the confidential-contract demo on the devnet running on --home (the
same home as phala devnet; start one first). It builds the four example
contracts from their sources (with the SDK it carries, as phala contract
build does), deploys them as alice, and runs their scenarios:
  token        alice sends bob tokens privately; each reads only their own balance
  secretstore  alice stores a secret, grants carol, sells bob a read grant and withdraws the proceeds; a stranger is refused
  voting       three accounts vote; the tally shows only once alice closes the ballot
  inference    bob's features, sealed, get a prediction signed by the contract
Every command's receipt is read from every worker of the cluster and must
be the same, every query asked of every worker. Each step checks its outcome;
the last line is the verdict, and the exit status is 0 only if every step
did what it should. Name scenarios to run only those (%v).
The secret values are fresh each run (--output json lists them as inputs).`, contracts.Examples),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := demo.CheckScenarios(args); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			t, err := demo.FindTarget(ctx, home, nodeURL, workers)
			if err != nil {
				return err
			}
			c, err := client.New(t.Node)
			if err != nil {
				return err
			}
			work, err := os.MkdirTemp("", "phala-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(work)
			cfg := demo.Config{Client: c, Workers: t.Workers, WorkDir: work, Scenarios: args}
			if outputFormat != "json" {
				chainID, err := c.ChainID(ctx)
				if err != nil {
					return err
				}
				fmt.Println(demo.Header(chainID, t.Node, t.Workers))
				cfg.Progress = func(s demo.Step) { fmt.Println(s.Text()) }
			}
			rep, runErr := demo.Run(ctx, cfg)
			if len(rep.Steps) == 0 {
				return runErr // it did not start
			}
			if err := emit(rep, rep.Verdict); err != nil {
				return err
			}
			return runErr
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultDir("devnet"), "home of the running devnet (as given to phala devnet)")
	cmd.Flags().StringVar(&nodeURL, "node", "", "node RPC URL instead of the one the home records")
	cmd.Flags().StringArrayVar(&workers, "worker", nil, "a worker's public API URL instead of the ones the home records (repeatable)")
	cmd.Flags().DurationVar(&timeout, "timeout", 20*time.Minute, "give up after this long")
	return cmd
}
