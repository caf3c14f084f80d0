package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/attest/attestfs"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/worker/api"
)

type relayFlags struct {
	k          keyringFlags
	node       string
	runtime    string
	token      runtimeTokenFlags
	key        string
	collateral string
	batch      int
	metrics    string
	logLevel   string
	manual     bool
}

func newRelayCmd() *cobra.Command {
	var f relayFlags
	cmd := &cobra.Command{
		Use:   "relay --runtime URL --worker-home DIR --key OPERATOR",
		Short: "Feed a worker runtime the chain's blocks and submit its egress (the untrusted host side)",
		Long: `Feed a worker runtime the chain's blocks and submit its egress.

The relay reads headers, commits and block digests from a node and hands
them to the runtime's relay API, which verifies everything; it submits the
runtime's signed egress in transactions paid by the operator key, and
registers the runtime when it is not registered. The runtime's relay API
takes only requests carrying its token, which the worker writes into its
home at its first start: --worker-home names that home (or
--runtime-token-file the token file). The operator key must be the one the
worker was started with (phala worker --operator); the relay logs an error
and sets phala_relay_runtime_foreign_operator to 1 if the runtime is
registered under any other operator. It keeps no state: stop
and restart it at will. With --manual-registration it leaves
registering to the operator (phala tx register-worker). Runs until Ctrl-C or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context()) },
	}
	f.k.register(cmd, true)
	cmd.Flags().StringVar(&f.node, "node", client.DefaultNode, "CometBFT RPC address of a node")
	cmd.Flags().StringVar(&f.runtime, "runtime", "", "the runtime's relay API, e.g. http://127.0.0.1:41234")
	f.token.register(cmd)
	cmd.Flags().StringVar(&f.key, "key", "", "operator key that pays for transactions and is bound into the registration")
	cmd.Flags().StringVar(&f.collateral, "collateral", "", "directory of Intel PCS collateral for sgx/tdx registrations (none for sim)")
	cmd.Flags().IntVar(&f.batch, "batch", relay.DefaultBatchSize, "most blocks handed to the runtime at once")
	cmd.Flags().StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9101)")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().BoolVar(&f.manual, "manual-registration", false, "do not register the runtime; its operator runs phala tx register-worker")
	cmd.MarkFlagRequired("runtime")
	cmd.MarkFlagRequired("key")
	return cmd
}

func (f *relayFlags) run(parent context.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("invalid --log-level %q (want debug, info, warn or error)", f.logLevel)
	}
	if f.batch <= 0 || f.batch > relay.DefaultBatchSize {
		// The runtime's relay API sizes its body limit for this many
		// headers: a larger batch would be refused and the relay stuck.
		return fmt.Errorf("invalid --batch %d (want 1 to %d)", f.batch, relay.DefaultBatchSize)
	}
	// The token first: without it the runtime answers nothing, so no
	// passphrase is worth asking for.
	tok, err := f.token.load()
	if err != nil {
		return err
	}
	op, err := loadKey(&f.k, f.key)
	if err != nil {
		return err
	}
	coll, err := f.loadCollateral()
	if err != nil {
		return err
	}
	cfg, err := f.config(op, tok, coll, level)
	if err != nil {
		return err
	}
	r, err := relay.New(cfg)
	if err != nil {
		return err
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := serveMetrics(f.metrics, r.Metrics())
	if err != nil {
		return err
	}
	if err := f.announce(op, srv); err != nil {
		return err
	}
	runErr := r.Run(ctx)
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	if runErr == nil {
		fmt.Fprintln(os.Stderr, "relay stopped")
	}
	return runErr
}

func (f *relayFlags) loadCollateral() (attest.Collateral, error) {
	if f.collateral == "" {
		return attest.Collateral{}, nil
	}
	return attestfs.LoadCollateralDir(f.collateral)
}

// config wires the relay: logs and progress go to stderr, as JSON with
// --output json.
func (f *relayFlags) config(op ed25519.PrivateKey, token string, coll attest.Collateral, level slog.Level) (relay.Config, error) {
	src, err := relay.NewSource(f.node, relay.WithBatchSize(f.batch))
	if err != nil {
		return relay.Config{}, err
	}
	chain, err := client.New(f.node)
	if err != nil {
		return relay.Config{}, err
	}
	opts := &slog.HandlerOptions{Level: level}
	cfg := relay.Config{Source: src, Runtime: relay.NewHTTPRuntime(f.runtime, token), Chain: chain, Operator: op, Collateral: coll, ManualRegistration: f.manual}
	if outputFormat == "json" {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, opts))
		cfg.Progress = progressLog{cfg.Log}
	} else {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, opts))
		cfg.Progress = os.Stderr
	}
	return cfg, nil
}

// progressLog turns the relay's progress lines into log records, so JSON
// output stays one JSON object per line.
type progressLog struct{ log *slog.Logger }

func (p progressLog) Write(b []byte) (int, error) {
	p.log.Info("progress", "line", strings.TrimSpace(string(b)))
	return len(b), nil
}

// metricsServer serves /metrics on the address it listens on.
type metricsServer struct {
	*http.Server
	url string
}

// serveMetrics starts the metrics endpoint when addr is set.
func serveMetrics(addr string, m *relay.Metrics) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux}
	// Bounded like the runtime's servers: a scrape is a small GET, and a
	// loopback metrics port must not answer a rebound browser page.
	api.MetricsLimits().Harden(srv, ln)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "metrics server:", err)
		}
	}()
	return &metricsServer{Server: srv, url: "http://" + ln.Addr().String() + "/metrics"}, nil
}

func (f *relayFlags) announce(op ed25519.PrivateKey, srv *metricsServer) error {
	operator := address.FromPublicKey(op.Public().(ed25519.PublicKey))
	out := map[string]string{"node": f.node, "runtime": f.runtime, "operator": operator.String()}
	text := fmt.Sprintf("relaying %s -> %s, operator %s", f.node, f.runtime, operator)
	if srv != nil {
		out["metrics"] = srv.url
		text += ", metrics at " + out["metrics"]
	}
	return emit(out, func() string { return text })
}
