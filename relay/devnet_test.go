package relay

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"testing"
	"time"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// devnet is a real single-validator chain in this process.
type devnet struct {
	v      *network.Validator
	home   node.Home
	url    string
	timing node.Timing
}

// fastTiming commits a block every few tens of milliseconds.
func fastTiming() node.Timing {
	return node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 20 * time.Millisecond, CreateEmptyBlocks: true}
}

// veryFastTiming makes blocks as fast as one validator can.
func veryFastTiming() node.Timing {
	return node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: time.Millisecond, CreateEmptyBlocks: true}
}

func startDevnet(t *testing.T) *devnet {
	t.Helper()
	return startDevnetTiming(t, fastTiming())
}

func startDevnetTiming(t *testing.T, timing node.Timing) *devnet {
	t.Helper()
	home := node.Home(t.TempDir())
	ports, err := node.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	if err := network.InitDevnet(home, network.DevnetOptions{Ports: ports, Timing: timing}); err != nil {
		t.Fatal(err)
	}
	d := &devnet{home: home, timing: timing}
	d.start(t)
	return d
}

func (d *devnet) start(t *testing.T) {
	t.Helper()
	v, err := network.Start(t.Context(), d.home, slog.New(slog.DiscardHandler), node.WithTiming(d.timing))
	if err != nil {
		t.Fatal(err)
	}
	d.v, d.url = v, v.Node.RPCURL()
	t.Cleanup(func() { d.stop(t) })
}

func (d *devnet) stop(t *testing.T) {
	if d.v == nil {
		return
	}
	if err := d.v.Stop(); err != nil {
		t.Errorf("stopping the devnet: %v", err)
	}
	d.v = nil
}

func (d *devnet) waitHeight(t *testing.T, h int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := d.v.Node.WaitHeight(ctx, h); err != nil {
		t.Fatal(err)
	}
}

func (d *devnet) client(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(d.url)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// devKey is a development account's key (alice, bob, carol).
func devKey(name string) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(keyring.DevSeed(name))
}
