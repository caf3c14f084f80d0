package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/api"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/lightclient"
)

func runRelayCmd(ctx context.Context, args ...string) error {
	cmd := newRelayCmd()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

func TestRelayCommandRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no runtime", []string{"--key", "alice"}, "runtime"},
		{"no key", []string{"--runtime", "http://127.0.0.1:1"}, "key"},
		{"zero batch", []string{"--runtime", "http://127.0.0.1:1", "--key", "alice", "--batch", "0"}, "--batch"},
		{"bad log level", []string{"--runtime", "http://127.0.0.1:1", "--key", "alice", "--log-level", "loud"}, "--log-level"},
		{"no token", []string{"--runtime", "http://127.0.0.1:1", "--key", "alice"}, "--worker-home"},
		{"missing token file", []string{"--runtime", "http://127.0.0.1:1", "--key", "alice", "--worker-home", "/nonexistent"}, relaywire.TokenFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runRelayCmd(t.Context(), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestRelayCommandRegistersAWorker runs `phala relay` between a devnet and
// a sim worker runtime in this process, and reads its metrics until the
// worker's first egress is submitted.
func TestRelayCommandRegistersAWorker(t *testing.T) {
	home := node.Home(t.TempDir())
	ports := make([]int, 3)
	for i := range ports {
		p, err := node.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	timing := node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 20 * time.Millisecond, CreateEmptyBlocks: true}
	if err := network.InitDevnet(home, network.DevnetOptions{Ports: node.Ports{P2P: ports[0], RPC: ports[1]}, Timing: timing}); err != nil {
		t.Fatal(err)
	}
	v, err := network.Start(t.Context(), home, slog.New(slog.DiscardHandler), node.WithTiming(timing))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Stop() })

	whome := t.TempDir()
	platform, err := sim.New(sim.WithDir(whome), sim.WithWarnings(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	rawGenesis, err := cmtjson.Marshal(v.Node.Comet().GenesisDoc())
	if err != nil {
		t.Fatal(err)
	}
	genesis, err := lightclient.ParseGenesis(rawGenesis)
	if err != nil {
		t.Fatal(err)
	}
	alice := address.FromPublicKey(ed25519.NewKeyFromSeed(keyring.DevSeed("alice")).Public().(ed25519.PublicKey))
	rt, err := enclave.Open(enclave.Config{Home: whome, Genesis: genesis, Platform: platform, Operator: alice, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.LoadOrCreateToken(filepath.Join(whome, relaywire.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.Listen("127.0.0.1:0", api.NewRelayHandler(rt, tok))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()); rt.Close() })

	t.Setenv("PHALA_PASSPHRASE", network.DevPassphrase)
	metrics := "127.0.0.1:" + strconv.Itoa(ports[2])
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- runRelayCmd(ctx, "--node", v.Node.RPCURL(), "--runtime", srv.URL(), "--worker-home", whome, "--key", "alice",
			"--keyring", network.KeyringDir(home), "--batch", "10", "--metrics", metrics, "--log-level", "error")
	}()

	deadline := time.Now().Add(60 * time.Second)
	for !rt.Status().Registered || !submitted(scrape(metrics)) {
		if time.Now().After(deadline) {
			t.Fatalf("no registration and egress in time; runtime %+v; metrics:\n%s", rt.Status(), scrape(metrics))
		}
		select {
		case err := <-done:
			t.Fatalf("relay exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("relay stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("relay did not stop on cancel")
	}
}

func scrape(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// submitted reports whether the scraped metrics count an egress submission.
func submitted(metrics string) bool {
	const name = "phala_relay_egress_submitted_total "
	return strings.Contains(metrics, name) && !strings.Contains(metrics, name+"0\n")
}
