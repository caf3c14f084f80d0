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
	checkpointEvery        int64
	gatekeeper             bool
}

func newWorkerCmd() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker --home DIR --genesis FILE",
		Short: "Run the worker runtime (the enclave side): verifies blocks a relay feeds it, signs egress",
		Long: `Run the worker runtime: the code that belongs inside a TEE.

It trusts only the genesis file it is given, verifies every block its relay
feeds it (relay API, loopback), keeps its node keys and checkpoints sealed
by the TEE in --home, and serves its status and attestation on the public
API. Ctrl-C or SIGTERM stops it after a checkpoint.`,
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
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:0", "loopback address of the public API")
	cmd.Flags().Int64Var(&f.checkpointEvery, "checkpoint-every", enclave.DefaultCheckpointEvery, "blocks between sealed checkpoints")
	cmd.Flags().BoolVar(&f.gatekeeper, "gatekeeper", false, "run as a gatekeeper (registers with that role)")
	cmd.MarkFlagRequired("genesis")
	return cmd
}

type workerJSON struct {
	Home          string `json:"home"`
	ChainID       string `json:"chain_id"`
	RelayAPI      string `json:"relay_api"`
	PublicAPI     string `json:"public_api"`
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
	platform, err := openPlatform(f.teeKind, filepath.Join(f.home, "tee-sim"))
	if err != nil {
		return err
	}
	w, err := service.Open(service.Config{
		Home: f.home, GenesisFile: f.genesis, Platform: platform,
		CheckpointEvery: f.checkpointEvery, Gatekeeper: f.gatekeeper,
		RelayListen: f.relayListen, PublicListen: f.listen,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		return err
	}
	runErr := f.announce(w.Runtime, w.RelayURL(), w.PublicURL())
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

// announce prints the URLs, keys and state, and writes them to
// home/worker.json.
func (f *workerFlags) announce(rt *enclave.Runtime, relayURL, publicURL string) error {
	s := rt.Status()
	role := "worker"
	if f.gatekeeper {
		role = "gatekeeper"
	}
	out := workerJSON{
		Home: f.home, ChainID: s.ChainID, RelayAPI: relayURL, PublicAPI: publicURL,
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
		return fmt.Sprintf("%s runtime of %s\nrelay api   %s\npublic api  %s\nidentity    %s\nheight      %d\nstate hash  %s\nregistered  %v\nrunning; Ctrl-C stops",
			role, out.ChainID, relayURL, publicURL, out.IdentityKey, out.Height, out.StateHash, out.Registered)
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
