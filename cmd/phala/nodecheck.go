package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/node"
)

// errHomeDamaged makes `node check` exit non-zero after printing its report.
var errHomeDamaged = errors.New("home failed its checks; see above")

func newNodeCheckCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "check --home DIR",
		Short: "Check a stopped node or devnet home for damaged stores and a missing validator key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h := node.Home(home)
			if !h.Exists() { // checked before locking, which would create the directory
				return fmt.Errorf("%w at %s", node.ErrNoHome, home)
			}
			// The lock proves the home is stopped: the check opens its stores.
			lock, err := lockHome(h, "a node")
			if err != nil {
				return err
			}
			defer lock.Unlock()
			results, err := checkHome(h)
			if err != nil {
				return err
			}
			return reportChecks(home, results)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "the node's (or devnet's) home directory")
	cmd.MarkFlagRequired("home")
	return cmd
}

// checkHome runs the node's checks and the application's start-up check.
func checkHome(h node.Home) ([]node.CheckResult, error) {
	results, err := node.CheckHome(h)
	if err != nil {
		return nil, err
	}
	return append(results, checkAppState(h)...), nil
}

// checkAppState runs the application's start-up check (the state root
// against the last app hash, the supply against the balances) and then
// verifies the whole state tree, which a start does not.
func checkAppState(h node.Home) []node.CheckResult {
	r := node.CheckResult{Name: "application state"}
	chainID, _, err := node.LoadGenesisAppState(h)
	if err != nil {
		r.Detail = err.Error()
		return []node.CheckResult{r}
	}
	a, err := app.New(chainID, h.AppDataDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		r.Detail = err.Error()
		return []node.CheckResult{r}
	}
	defer a.Close()
	if err := a.CheckStartup(); err != nil {
		r.Detail = err.Error()
		return []node.CheckResult{r}
	}
	r.OK, r.Detail = true, "the state root gives the last app hash; supply equals the sum of balances"
	return []node.CheckResult{r, checkStateTree(a)}
}

func checkStateTree(a *app.App) node.CheckResult {
	r := node.CheckResult{Name: "state tree"}
	rep, err := a.Store().VerifyTree(context.Background())
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	r.OK, r.Detail = true, fmt.Sprintf("%d keys at height %d hash to the root %X, and reads return them", rep.Keys, rep.Height, rep.Root)
	return r
}

func reportChecks(home string, results []node.CheckResult) error {
	ok := true
	for _, r := range results {
		ok = ok && r.OK
	}
	err := emit(map[string]any{"home": home, "ok": ok, "checks": results}, func() string {
		var b strings.Builder
		for _, r := range results {
			mark := "ok    "
			if !r.OK {
				mark = "FAILED"
			}
			fmt.Fprintf(&b, "%s  %-18s %s\n", mark, r.Name, r.Detail)
		}
		return b.String()
	})
	if err == nil && !ok {
		err = errHomeDamaged
	}
	return err
}
