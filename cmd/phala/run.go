package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// runUntilSignal starts the validator in home, calls ready, and stops it
// cleanly on Ctrl-C or SIGTERM.
func runUntilSignal(home node.Home, ready func(*network.Validator) error, opts ...node.StartOption) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	v, err := network.Start(ctx, home, log, opts...)
	if err != nil {
		return err
	}
	if err := ready(v); err != nil {
		v.Stop()
		return err
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "shutting down...")
	case <-v.Node.Done():
		fmt.Fprintln(os.Stderr, "consensus stopped; shutting down...")
	}
	if err := v.Stop(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(os.Stderr, "stopped cleanly")
	return nil
}
