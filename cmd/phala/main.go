// Command phala is the one binary of the network: it runs validators and a
// development network, manages keys, and is the wallet CLI. It holds flags
// and wiring only; the logic lives in the packages it calls.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(exitCode(err))
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "phala",
		Short:         "A confidential smart-contract network",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&outputFormat, "output", "o", "text", "output format: text or json")
	// Check the format before any command acts: a transfer must not be sent
	// and then reported as failed because of a typo in --output.
	root.PersistentFlags().StringVar(&clientConfigFlag, "config", "", "client config file (default: $"+envClientConfig+", else ~/.phala/client.json)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutputFormat(); err != nil {
			return err
		}
		return applyClientConfig(cmd)
	}
	root.AddCommand(newDevnetCmd(), newNodeCmd(), newTestnetCmd(), newKeysCmd(), newTxCmd(), newQueryCmd(), newBenchCmd(), newAttestCmd(), newWorkerCmd())
	root.AddCommand(newConfigCmd())
	root.AddCommand(newRelayCmd())
	root.AddCommand(newContractCmd())
	root.AddCommand(newDemoCmd())
	return root
}
