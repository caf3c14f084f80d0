package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/api"
)

func openWith(t *testing.T, genesis string, edit func(*Config)) (*Worker, error) {
	t.Helper()
	home := t.TempDir()
	platform, err := sim.New(sim.WithDir(filepath.Join(home, "tee-sim")))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Home: home, GenesisFile: genesis, Platform: platform, RelayListen: "127.0.0.1:0", PublicListen: "127.0.0.1:0"}
	edit(&cfg)
	w, err := Open(cfg)
	if err == nil {
		t.Cleanup(func() { _ = w.Close(t.Context()) })
	}
	return w, err
}

// TestPublicAPIExposure: the public API listens beyond loopback only when
// the operator exposes it, with a warning in the log; the relay API never
// does. The advertised URL reaches the runtime (or the listen URL, when
// asked); a malformed one fails the start.
func TestPublicAPIExposure(t *testing.T) {
	_, genesis := genesisFile(t)
	if _, err := openWith(t, genesis, func(c *Config) { c.PublicListen = "0.0.0.0:0" }); !errors.Is(err, api.ErrNotLoopback) {
		t.Fatalf("unexposed on 0.0.0.0: %v", err)
	}
	if _, err := openWith(t, genesis, func(c *Config) { c.RelayListen, c.PublicExposed = "0.0.0.0:0", true }); !errors.Is(err, api.ErrNotLoopback) {
		t.Fatalf("relay API on 0.0.0.0 with the public API exposed: %v", err)
	}
	var log bytes.Buffer
	const advertised = "https://worker.example.org:8443"
	w, err := openWith(t, genesis, func(c *Config) {
		c.PublicListen, c.PublicExposed, c.AdvertiseURL = "0.0.0.0:0", true, advertised
		c.Log = slog.New(slog.NewTextHandler(&log, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(w.PublicURL(), "127.0.0.1") || !strings.Contains(log.String(), "BEYOND LOOPBACK") {
		t.Fatalf("listens at %s; log:\n%s", w.PublicURL(), log.String())
	}
	if got, _ := w.Runtime.Endpoint(); got != advertised {
		t.Fatalf("advertised %q, want %q", got, advertised)
	}
	w, err = openWith(t, genesis, func(c *Config) { c.AdvertiseListenURL = true })
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := w.Runtime.Endpoint(); got != w.PublicURL() {
		t.Fatalf("advertised %q, want the listen URL %s", got, w.PublicURL())
	}
	resp, err := http.Get(w.PublicURL() + api.PublicPathStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st api.StatusJSON
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Endpoint != w.PublicURL() || st.EndpointRecorded != "" {
		t.Fatalf("public status %+v (%v): want the advertised endpoint, none recorded yet", st, err)
	}
	if _, err := openWith(t, genesis, func(c *Config) { c.AdvertiseURL = "ftp://worker" }); !errors.Is(err, registryapi.ErrBadEndpoint) {
		t.Fatalf("a bad advertised URL: %v", err)
	}
}
