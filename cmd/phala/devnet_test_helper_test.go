package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// cliDevnet is a devnet validator running in this test's process, for
// running the CLI's commands against it.
type cliDevnet struct {
	home node.Home
	v    *network.Validator
	// conn are the flags that point a command at it, in JSON.
	conn []string
}

// startCLIDevnet lays out a devnet with fast blocks, lets edit change its
// home (its genesis) before the first start, starts it and sets the
// development keys' passphrase. It stops with the test.
func startCLIDevnet(t *testing.T, edit func(node.Home)) cliDevnet {
	t.Helper()
	home := node.Home(t.TempDir())
	ports, err := node.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	timing := node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 20 * time.Millisecond, CreateEmptyBlocks: true}
	if err := network.InitDevnet(home, network.DevnetOptions{Ports: ports, Timing: timing}); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(home)
	}
	v, err := network.Start(t.Context(), home, slog.New(slog.DiscardHandler), node.WithTiming(timing))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Stop() })
	t.Setenv("PHALA_PASSPHRASE", network.DevPassphrase)
	return cliDevnet{home: home, v: v, conn: []string{"--node", v.Node.RPCURL(), "-o", "json"}}
}

// as is args sent by a development key, through this devnet.
func (d cliDevnet) as(who string, args ...string) []string {
	return append(append(args, "--from", who, "--keyring", network.KeyringDir(d.home)), d.conn...)
}
