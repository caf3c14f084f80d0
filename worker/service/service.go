// Package service builds a running worker: the runtime (the enclave side)
// and its two loopback APIs, the relay API its relay feeds and the public
// API that serves status, attestation, receipts and encrypted queries. Both `phala worker` and the
// development network start workers through it, so there is one wiring and
// one shutdown order.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relaywire"

	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/api"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/lightclient"
)

// Config says where a worker keeps its state, what it trusts and where it
// listens.
type Config struct {
	// Home holds the sealed keys, keystore and checkpoints.
	Home string
	// GenesisFile is the chain's genesis.json: the runtime's trust root.
	GenesisFile string
	Platform    tee.Platform
	// CheckpointEvery: blocks between sealed checkpoints (0: the
	// runtime's default).
	CheckpointEvery int64
	// Gatekeeper registers the runtime as a gatekeeper, not a worker.
	Gatekeeper bool
	// Operator is the account the runtime registers under: pinned (sealed
	// in Home) at the first start that names one; later starts must name
	// the same one or none (enclave.Config.Operator).
	Operator address.Address
	// TokenFile is the relay API's secret; created (mode 0600) if absent.
	// Empty: relaywire.TokenFile in Home.
	TokenFile string
	// RelayListen and PublicListen are loopback host:port addresses (port
	// 0 picks a free one).
	RelayListen, PublicListen string
	// PublicExposed lets PublicListen be any address, not only loopback:
	// the operator's explicit choice for a worker that clients reach over
	// the network (logged as a warning at every start). The relay API
	// stays on loopback whatever this says.
	PublicExposed bool
	// AdvertiseURL is the public API's URL as clients reach it (through
	// the host's port, proxy or DNS name), which the runtime publishes on
	// chain; empty: none. AdvertiseListenURL publishes the URL the public
	// API listens on instead, as the devnet does on loopback.
	AdvertiseURL       string
	AdvertiseListenURL bool
	Log                *slog.Logger // nil: slog.Default()
}

// The public API serves receipts, queries and events through these.
var (
	_ api.ReceiptServer    = (*enclave.Runtime)(nil)
	_ api.QueryServer      = (*enclave.Runtime)(nil)
	_ api.EventsServer     = (*enclave.Runtime)(nil)
	_ api.EndpointReporter = (*enclave.Runtime)(nil)
)

// Worker is a runtime serving its two APIs.
type Worker struct {
	Runtime *enclave.Runtime
	// TokenFile holds the relay API's secret, for the relay to read.
	TokenFile     string
	relay, public *api.Server
}

// Open opens the runtime (resuming from its newest checkpoint) and starts
// both APIs. On error nothing is left running.
func Open(cfg Config) (*Worker, error) {
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return nil, fmt.Errorf("worker home: %w", err)
	}
	raw, err := os.ReadFile(cfg.GenesisFile)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	genesis, err := lightclient.ParseGenesis(raw)
	if err != nil {
		return nil, fmt.Errorf("genesis %s: %w", cfg.GenesisFile, err)
	}
	tokenFile := cfg.TokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(cfg.Home, relaywire.TokenFile)
	}
	// The token comes before the runtime so that a home whose token is
	// unusable fails before anything is opened.
	tok, err := api.LoadOrCreateToken(tokenFile)
	if err != nil {
		return nil, err
	}
	rt, err := enclave.Open(enclave.Config{
		Home: cfg.Home, Genesis: genesis, Platform: cfg.Platform,
		CheckpointEvery: cfg.CheckpointEvery, Gatekeeper: cfg.Gatekeeper, Operator: cfg.Operator, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	w := &Worker{Runtime: rt, TokenFile: tokenFile}
	if w.relay, err = api.Listen(cfg.RelayListen, api.NewRelayHandler(rt, tok)); err != nil {
		return nil, errors.Join(err, rt.Close())
	}
	if w.public, err = listenPublic(cfg, api.NewPublicHandler(rt)); err != nil {
		return nil, errors.Join(err, w.closeServers(context.Background()), rt.Close())
	}
	advertise := cfg.AdvertiseURL
	if advertise == "" && cfg.AdvertiseListenURL {
		advertise = w.PublicURL()
	}
	if err := rt.Advertise(advertise); err != nil {
		return nil, errors.Join(err, w.closeServers(context.Background()), rt.Close())
	}
	return w, nil
}

// listenPublic serves the public API on loopback, or where the operator
// exposed it, saying so loudly.
func listenPublic(cfg Config, h http.Handler) (*api.Server, error) {
	if !cfg.PublicExposed {
		return api.Listen(cfg.PublicListen, h)
	}
	s, err := api.ListenExposed(cfg.PublicListen, h)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log.Warn("THE PUBLIC API LISTENS BEYOND LOOPBACK, as the operator asked: anyone who reaches this address can read receipts (sealed), send queries and read status",
		"listen", s.URL(), "advertised", cfg.AdvertiseURL)
	return s, nil
}

// RelayURL is the relay API's base URL.
func (w *Worker) RelayURL() string { return w.relay.URL() }

// PublicURL is the public API's base URL (GET /v1/status).
func (w *Worker) PublicURL() string { return w.public.URL() }

// Close stops taking requests first, so no batch is applied after the
// final checkpoint, then checkpoints and closes the runtime. ctx bounds
// the wait for requests in flight.
func (w *Worker) Close(ctx context.Context) error {
	return errors.Join(w.closeServers(ctx), w.Runtime.Close())
}

func (w *Worker) closeServers(ctx context.Context) error {
	var errs []error
	for _, s := range []*api.Server{w.relay, w.public} {
		if s != nil {
			errs = append(errs, s.Close(ctx))
		}
	}
	return errors.Join(errs...)
}
