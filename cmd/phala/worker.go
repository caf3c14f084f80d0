package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/tee/gramine"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/tee/tdx"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/service"
)

// workerInfoFile is written into the worker's home once it listens, so a
// relay or a script can find the URLs.
const workerInfoFile = "worker.json"

type workerFlags struct {
	home, genesis, teeKind string
	relayListen, listen    string
	expose                 bool
	advertise              string
	checkpointEvery        int64
	gatekeeper             bool
	operator               string
}

func newWorkerCmd() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker --home DIR --genesis FILE --operator ADDRESS",
		Short: "Run the worker runtime (the enclave side): verifies blocks a relay feeds it, signs egress",
		Long: `Run the worker runtime: the code that belongs inside a TEE.

It trusts only the genesis file it is given, verifies every block its relay
feeds it (relay API, loopback), keeps its node keys and checkpoints sealed
by the TEE in --home, and serves its status and attestation on the public
API. Ctrl-C or SIGTERM stops it after a checkpoint.

--operator is the account the runtime registers under, required at the
first start: it is sealed into the home, the runtime gives registration
evidence for that operator only, and a later start may omit it but not
change it. At its first start the runtime also writes its relay API token
(relay-api.token, mode 0600) into --home: its relay reads it
(phala relay --worker-home DIR) and every relay API request without it is
refused. The public API stays open.

The public API (status, attestation, receipts, queries, events) listens on
loopback unless --expose lets --listen name another address (0.0.0.0:8080,
a LAN address): an explicit choice, warned about at every start, for a
worker its clients reach over the network. --advertise names the URL
clients use (through the host's port, a proxy or a DNS name); the runtime
publishes it on chain, signed by its identity key, once it is registered,
so clients find the workers of a contract's cluster without configuration.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			// Signals are caught from the start so a stop never skips the
			// final checkpoint.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return f.run(ctx)
		},
	}
	cmd.Flags().StringVar(&f.home, "home", defaultDir("worker"), "worker home: sealed keys, checkpoints, sim TEE secret")
	cmd.Flags().StringVar(&f.genesis, "genesis", "", "the chain's genesis.json (the runtime's only trust root)")
	cmd.Flags().StringVar(&f.teeKind, "tee", "sim", "TEE platform: sim (no protection), sgx (Gramine) or tdx")
	cmd.Flags().StringVar(&f.relayListen, "relay-listen", "127.0.0.1:0", "loopback address of the relay API")
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:0", "address of the public API (loopback unless --expose)")
	cmd.Flags().BoolVar(&f.expose, "expose", false, "let --listen be a non-loopback address: anyone who reaches it can use the public API")
	cmd.Flags().StringVar(&f.advertise, "advertise", "", "public API URL clients use (http:// or https://), published on chain")
	cmd.Flags().Int64Var(&f.checkpointEvery, "checkpoint-every", enclave.DefaultCheckpointEvery, "blocks between sealed checkpoints")
	cmd.Flags().BoolVar(&f.gatekeeper, "gatekeeper", false, "run as a gatekeeper (registers with that role)")
	cmd.Flags().StringVar(&f.operator, "operator", "", "operator address the runtime registers under (pinned at the first start)")
	cmd.MarkFlagRequired("genesis")
	return cmd
}

type workerJSON struct {
	Home     string `json:"home"`
	ChainID  string `json:"chain_id"`
	RelayAPI string `json:"relay_api"`
	// RelayToken is the relay API's token file (its path, not the secret).
	RelayToken    string `json:"relay_api_token_file"`
	Operator      string `json:"operator"`
	PublicAPI     string `json:"public_api"`
	Advertised    string `json:"advertised,omitempty"`
	IdentityKey   string `json:"identity_key"`
	EncryptionKey string `json:"encryption_key"`
	Role          string `json:"role"`
	Height        int64  `json:"height"`
	StateHash     string `json:"state_hash"`
	Registered    bool   `json:"registered"`
}

// run serves until ctx ends, then checkpoints and stops.
func (f *workerFlags) run(ctx context.Context) error {
	if f.checkpointEvery <= 0 {
		return fmt.Errorf("--checkpoint-every must be positive, got %d", f.checkpointEvery)
	}
	if _, err := os.Stat(f.genesis); err != nil {
		return fmt.Errorf("--genesis: %w", err)
	}
	operator, err := f.parseOperator()
	if err != nil {
		return err
	}
	platform, err := openPlatform(f.teeKind, filepath.Join(f.home, "tee-sim"))
	if err != nil {
		return err
	}
	w, err := service.Open(service.Config{
		Home: f.home, GenesisFile: f.genesis, Platform: platform,
		CheckpointEvery: f.checkpointEvery, Gatekeeper: f.gatekeeper, Operator: operator,
		RelayListen: f.relayListen, PublicListen: f.listen, PublicExposed: f.expose, AdvertiseURL: f.advertise,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		return err
	}
	if f.expose {
		fmt.Fprintf(os.Stderr, "WARNING: the public API listens on %s, beyond loopback (--expose): anyone who reaches it can use it\n", w.PublicURL())
	}
	runErr := f.announce(w, w.RelayURL(), w.PublicURL())
	if runErr == nil {
		<-ctx.Done()
		fmt.Fprintln(os.Stderr, "shutting down...")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(runErr, w.Close(stopCtx))
	if err == nil {
		fmt.Fprintln(os.Stderr, "stopped cleanly; state checkpointed")
	}
	return err
}

// parseOperator reads --operator; it may be left out only when a previous
// start pinned one (the runtime then uses that).
func (f *workerFlags) parseOperator() (address.Address, error) {
	if f.operator != "" {
		op, err := address.Parse(f.operator)
		if err != nil {
			return address.Address{}, fmt.Errorf("--operator: %w", err)
		}
		return op, nil
	}
	if _, err := os.Stat(filepath.Join(f.home, enclave.OperatorFile)); err != nil {
		return address.Address{}, fmt.Errorf("--operator is required at the first start: the address the runtime registers under (phala keys show NAME)")
	}
	return address.Address{}, nil
}

// announce prints the URLs, keys and state, and writes them to
// home/worker.json.
func (f *workerFlags) announce(w *service.Worker, relayURL, publicURL string) error {
	s := w.Runtime.Status()
	role := "worker"
	if f.gatekeeper {
		role = "gatekeeper"
	}
	out := workerJSON{
		Home: f.home, ChainID: s.ChainID, RelayAPI: relayURL, PublicAPI: publicURL, Advertised: f.advertise,
		RelayToken: w.TokenFile, Operator: w.Runtime.Operator().String(),
		IdentityKey: hex.EncodeToString(s.IdentityKey), EncryptionKey: hex.EncodeToString(s.EncryptionKey),
		Role: role, Height: s.Height, StateHash: hex.EncodeToString(s.StateHash), Registered: s.Registered,
	}
	raw, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.home, workerInfoFile), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", workerInfoFile, err)
	}
	return emit(out, func() string {
		return fmt.Sprintf("%s runtime of %s\nrelay api   %s (token in %s)\npublic api  %s\noperator    %s\nidentity    %s\nheight      %d\nstate hash  %s\nregistered  %v\nrunning; Ctrl-C stops",
			role, out.ChainID, relayURL, out.RelayToken, publicURL, out.Operator, out.IdentityKey, out.Height, out.StateHash, out.Registered)
	})
}

// openPlatform picks the TEE this process runs in.
func openPlatform(kind, dir string) (tee.Platform, error) {
	switch tee.Kind(kind) {
	case tee.KindSim:
		return sim.New(sim.WithDir(dir))
	case tee.KindSGX:
		return gramine.New()
	case tee.KindTDX:
		return tdx.New()
	}
	return nil, fmt.Errorf("unknown --tee %q (want sim, sgx or tdx)", kind)
}
