// Package devworker runs a development network's worker runtime (sim TEE)
// and its relay in process. It sits apart from package network because the
// relay's and runtime's own tests start devnets through network.
package devworker

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/service"
)

// Role is one TEE node of the devnet: its directory under the devnet
// home, whether it is a gatekeeper, and the development account that
// operates it (its relay registers it and pays for its egress).
type Role struct {
	Name       string
	Gatekeeper bool
	Operator   string
}

// The devnet's TEE nodes, operated by the development accounts kept for
// that: dave (whom the devnet genesis grants a gatekeeper), erin and frank.
// Two workers share the default cluster, so every command runs twice and
// the chain sees their results agree.
var (
	GatekeeperRole = Role{Name: "gatekeeper", Gatekeeper: true, Operator: "dave"}
	WorkerRole     = Role{Name: "worker", Operator: "erin"}
	Worker2Role    = Role{Name: "worker2", Operator: "frank"}
)

// WorkerRoles are the devnet's workers, in the order it starts them.
var WorkerRoles = []Role{WorkerRole, Worker2Role}

// devWorkerMeasurement is the sim measurement of the devnet's worker. The
// sim's default is the hash of the running binary, which changes with every
// rebuild and would lock a resumed devnet out of its own sealed keys; a
// fixed development value keeps them, and the devnet policy accepts any sim
// measurement anyway.
var devWorkerMeasurement = sha256.Sum256([]byte("phala devnet worker"))

// Worker is a development network's worker (sim TEE) with its relay, both
// in process: the worker serves its relay and public APIs on loopback and
// the relay feeds it through them, as separate processes do.
type Worker struct {
	*service.Worker
	rpc      string
	operator ed25519.PrivateKey
	log      *slog.Logger
	// The relay's run: cancel stops it, done reports how it ended; nil
	// while paused. Not safe for concurrent use.
	cancel context.CancelFunc
	done   chan error
}

// Dir is where a devnet home keeps a TEE node.
func Dir(home node.Home, r Role) string { return filepath.Join(string(home), r.Name) }

// Platform is the sim TEE of one of the devnet's TEE nodes: whoever
// reads the node's folder can open it and unseal what the node sealed
// (the sim protects nothing; the confidentiality test reads the master key
// this way, as any host of a sim node could).
func Platform(home node.Home, r Role) (*sim.Sim, error) {
	return sim.New(sim.WithDir(filepath.Join(Dir(home, r), "tee-sim")), sim.WithMeasurement(devWorkerMeasurement))
}

// Start opens one of the devnet's workers and starts its relay against v.
// The relay registers the runtime once it has caught up.
func Start(home node.Home, v *network.Validator, r Role, log *slog.Logger) (*Worker, error) {
	dir := Dir(home, r)
	platform, err := Platform(home, r)
	if err != nil {
		return nil, err
	}
	// The runtime is pinned to its development operator, as `phala worker
	// --operator` pins it: nobody else can get its evidence.
	operator := ed25519.NewKeyFromSeed(keyring.DevSeed(r.Operator))
	sw, err := service.Open(service.Config{
		Home: dir, GenesisFile: home.GenesisFile(), Platform: platform, CheckpointEvery: 100,
		Gatekeeper: r.Gatekeeper, Operator: address.FromPublicKey(operator.Public().(ed25519.PublicKey)),
		RelayListen: "127.0.0.1:0", PublicListen: "127.0.0.1:0",
		// Workers publish their loopback URL on chain, so clients of the
		// devnet find them as they find a network's workers; a restart
		// listens on another port and publishes it again.
		AdvertiseListenURL: !r.Gatekeeper,
		Log:                log.With("part", r.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("devnet %s: %w", r.Name, err)
	}
	w := &Worker{Worker: sw, rpc: v.Node.RPCURL(), operator: operator, log: log.With("part", r.Name+"-relay")}
	if err := w.ResumeRelay(); err != nil {
		return nil, errors.Join(err, sw.Close(context.Background()))
	}
	return w, nil
}

// ResumeRelay starts the worker's relay (Start does).
func (w *Worker) ResumeRelay() error {
	if w.cancel != nil {
		return errors.New("the relay runs already")
	}
	rl, err := w.newRelay(w.rpc, w.operator, w.log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan error, 1)
	go func() { w.done <- rl.Run(ctx) }()
	return nil
}

// PauseRelay stops the worker's relay and leaves the runtime running:
// it gets no blocks and nothing it sends reaches the chain, as when its
// host loses the network. ResumeRelay starts it again.
func (w *Worker) PauseRelay() error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	err := <-w.done
	w.cancel = nil
	return err
}

// newRelay makes the worker's relay, which reads the relay API token from
// the worker's home as a relay process of the operator does.
func (w *Worker) newRelay(rpc string, operator ed25519.PrivateKey, log *slog.Logger) (*relay.Relay, error) {
	tok, err := relay.ReadToken(w.TokenFile)
	if err != nil {
		return nil, err
	}
	src, err := relay.NewSource(rpc)
	if err != nil {
		return nil, err
	}
	c, err := client.New(rpc)
	if err != nil {
		return nil, err
	}
	return relay.New(relay.Config{Source: src, Runtime: relay.NewHTTPRuntime(w.RelayURL(), tok), Chain: c, Operator: operator, Log: log})
}

// WaitRegistered waits until the runtime has seen itself registered on
// chain, or ctx ends.
func (w *Worker) WaitRegistered(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !w.Runtime.Status().Registered {
		select {
		case <-ctx.Done():
			return fmt.Errorf("worker not registered: %w", ctx.Err())
		case err := <-w.done:
			w.done <- err
			return fmt.Errorf("relay stopped before the worker registered: %v", err)
		case <-tick.C:
		}
	}
	return nil
}

// Stop stops the relay, then the worker (its servers, then a checkpoint).
// Stop it before the validator it follows.
func (w *Worker) Stop() error {
	relayErr := w.PauseRelay()
	// Shutdown returns as soon as handlers in flight end; a block being
	// applied can take seconds on a loaded machine (a contract compiling),
	// so the bound is generous rather than tight.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(relayErr, w.Close(ctx))
}
