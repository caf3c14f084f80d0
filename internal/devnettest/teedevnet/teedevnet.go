// Package teedevnet starts, for a test, the development network as `phala
// devnet` runs it: one validator, the gatekeeper and the workers (sim TEE,
// each with its relay, in process), all registered, with the workers in the
// default cluster. Test support only: no program links it
// (internal/archtest). Apart from internal/devnettest because it links the
// relay and the worker, whose own tests use devnettest.
package teedevnet

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/internal/devnettest"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/node"
)

// Devnet is a running development network with its TEE nodes.
type Devnet struct {
	Home       node.Home
	Validator  *network.Validator
	Client     *client.Client
	Gatekeeper *devworker.Worker
	Workers    []*devworker.Worker // in the order of the roles asked for
	roles      []devworker.Role
}

// WorkerURLs are the workers' public API URLs.
func (d *Devnet) WorkerURLs() []string {
	urls := make([]string, len(d.Workers))
	for i, w := range d.Workers {
		urls[i] = w.PublicURL()
	}
	return urls
}

// Start starts the devnet with the given worker roles (devworker.WorkerRoles
// for the devnet's two) and sets up the default cluster; everything stops
// when the test ends.
func Start(t testing.TB, ctx context.Context, workers ...devworker.Role) *Devnet {
	t.Helper()
	ports, err := node.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	d := &Devnet{Home: node.Home(filepath.Join(t.TempDir(), "home"))}
	if err := network.InitDevnet(d.Home, network.DevnetOptions{Ports: ports, Timing: devnettest.Timing}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if d.Validator, err = network.Start(ctx, d.Home, log, node.WithLogLevel("error")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Validator.Stop(); err != nil {
			t.Errorf("stop devnet: %v", err)
		}
	})
	d.Gatekeeper = start(t, d, devworker.GatekeeperRole, log)
	var keys []ed25519.PublicKey
	for _, r := range workers {
		w := start(t, d, r, log)
		d.Workers, d.roles = append(d.Workers, w), append(d.roles, r)
	}
	for _, w := range append([]*devworker.Worker{d.Gatekeeper}, d.Workers...) {
		if err := w.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range d.Workers {
		keys = append(keys, w.Runtime.Status().IdentityKey)
	}
	if d.Client, err = client.New(d.Validator.Node.RPCURL()); err != nil {
		t.Fatal(err)
	}
	if _, err := devworker.SetUpCluster(ctx, d.Client, keys...); err != nil {
		t.Fatal(err)
	}
	return d
}

// StartTEE starts one more TEE node (a second gatekeeper, say; its
// operator must be allowed) and waits for it to register.
func (d *Devnet) StartTEE(t testing.TB, ctx context.Context, r devworker.Role) *devworker.Worker {
	t.Helper()
	w := start(t, d, r, slog.New(slog.DiscardHandler))
	if err := w.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// SetUpEconomy puts each worker in a stake pool of its operator's that
// alice delegates to and starts it computing, as `phala devnet` does.
func (d *Devnet) SetUpEconomy(t testing.TB, ctx context.Context) []devworker.PoolSetup {
	t.Helper()
	var members []devworker.Member
	for i, w := range d.Workers {
		members = append(members, devworker.Member{Role: d.roles[i], Identity: w.Runtime.Status().IdentityKey})
	}
	pools, err := devworker.SetUpEconomy(ctx, d.Client, members...)
	if err != nil {
		t.Fatal(err)
	}
	return pools
}

// start starts one TEE node, stopped (before the validator) when the test
// ends.
func start(t testing.TB, d *Devnet, r devworker.Role, log *slog.Logger) *devworker.Worker {
	t.Helper()
	w, err := devworker.Start(d.Home, d.Validator, r, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Stop(); err != nil {
			t.Errorf("stop %s: %v", r.Name, err)
		}
	})
	return w
}
