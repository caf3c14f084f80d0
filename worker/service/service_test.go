package service

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"

	"github.com/phala-go/phala/internal/chaingen"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/api"
)

// genesisFile writes a generated chain's genesis.json and returns the chain.
func genesisFile(t *testing.T) (*chaingen.Chain, string) {
	t.Helper()
	appState, err := network.DevAppState(true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chaingen.New("phala-service-test", 1, appState, []byte("genesis app hash"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cmtjson.Marshal(c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return c, path
}

func open(t *testing.T, home, genesis string) *Worker {
	t.Helper()
	platform, err := sim.New(sim.WithDir(filepath.Join(home, "tee-sim")))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(Config{Home: home, GenesisFile: genesis, Platform: platform, CheckpointEvery: 1000,
		RelayListen: "127.0.0.1:0", PublicListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestServesThenCheckpointsOnClose: blocks fed through the relay API are
// kept across a close and reopen, which only the final checkpoint can do
// (CheckpointEvery is far away), and a closed worker answers nothing.
func TestServesThenCheckpointsOnClose(t *testing.T) {
	c, genesis := genesisFile(t)
	for range 3 {
		if err := c.Add(nil); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(t.TempDir(), "worker")
	w := open(t, home, genesis)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	batch, err := c.Batch(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := relay.ReadToken(w.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(w.TokenFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", info, err)
	}
	if _, err := relay.NewHTTPRuntime(w.RelayURL(), "").Status(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("relay API without the token: %v, want %v", err, api.ErrUnauthorized)
	}
	rt := relay.NewHTTPRuntime(w.RelayURL(), tok)
	st, err := rt.Feed(ctx, batch)
	if err != nil || st.Height != 3 {
		t.Fatalf("apply: height %d, %v", st.Height, err)
	}
	resp, err := http.Get(w.PublicURL() + "/v1/status")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("public status: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Status(ctx); err == nil {
		t.Fatal("a closed worker still answers its relay API")
	}

	again := open(t, home, genesis)
	defer again.Close(context.Background())
	if got := again.Runtime.Status().Height; got != 3 {
		t.Fatalf("reopened at height %d, want 3 (the final checkpoint)", got)
	}
	if _, err := relay.NewHTTPRuntime(again.RelayURL(), tok).Status(ctx); err != nil {
		t.Fatalf("the token changed across a restart: %v", err)
	}
}

// TestOpenRefusesBadGenesis: a missing or foreign file leaves nothing
// running and says which file.
func TestOpenRefusesBadGenesis(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(bad, []byte(`{"chain_id": 7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "missing.json"), bad} {
		platform, err := sim.New(sim.WithDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(Config{Home: t.TempDir(), GenesisFile: path, Platform: platform, RelayListen: "127.0.0.1:0", PublicListen: "127.0.0.1:0"})
		if err == nil {
			t.Fatalf("%s: opened", path)
		}
	}
}
