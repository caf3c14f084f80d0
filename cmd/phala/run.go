package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// runUntilSignal starts the validator in home, calls ready, and stops it
// cleanly on Ctrl-C or SIGTERM. What ready started it stops through the
// function it returns (nil: nothing), before the validator.
func runUntilSignal(home node.Home, ready func(*network.Validator) (func() error, error), opts ...node.StartOption) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	v, err := network.Start(ctx, home, log, opts...)
	if err != nil {
		return err
	}
	stopExtra, err := ready(v)
	if err != nil {
		v.Stop()
		return err
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "shutting down...")
	case <-v.Node.Done():
		if upgradeNeeded(v.App.HaltReason()) {
			fmt.Fprintln(os.Stderr, "stopping for a software upgrade...")
		} else {
			fmt.Fprintln(os.Stderr, "consensus stopped; shutting down...")
		}
	}
	if stopExtra != nil {
		if err := stopExtra(); err != nil {
			fmt.Fprintf(os.Stderr, "shutdown: %v\n", err)
		}
	}
	if err := v.Stop(); err != nil {
		if upgradeNeeded(err) {
			return err // the node stopped for it: not a failure to shut down
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(os.Stderr, "stopped cleanly")
	return nil
}

// exitUpgradeNeeded is the exit status of a node that stopped (or would not
// start) because governance scheduled an upgrade this binary does not
// know: a supervisor can tell it from a crash and install the release
// instead of restarting the same binary.
const exitUpgradeNeeded = 3

// upgradeNeeded reports whether err is the application's halt for an
// unknown upgrade.
func upgradeNeeded(err error) bool {
	var up *app.UpgradeNeededError
	return errors.As(err, &up)
}

// exitCode is the process status for an error main reports.
func exitCode(err error) int {
	if upgradeNeeded(err) {
		return exitUpgradeNeeded
	}
	return 1
}
