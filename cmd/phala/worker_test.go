package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/worker/api"
)

func testGenesis(t *testing.T) string {
	t.Helper()
	port, err := node.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	homes, err := network.WriteTestnet(network.TestnetOptions{Validators: 1, OutDir: out, BasePort: port, ChainID: "worker-cli-test"})
	if err != nil {
		t.Fatal(err)
	}
	return homes[0].GenesisFile()
}

// testOperator is the operator the test runtimes are pinned to.
var testOperator = address.Module("test operator").String()

func TestWorkerCommandRefusesBadFlags(t *testing.T) {
	gen := testGenesis(t)
	tests := []struct {
		name string
		f    workerFlags
		want string
	}{
		{"checkpoint interval", workerFlags{genesis: gen, teeKind: "sim", relayListen: "127.0.0.1:0", listen: "127.0.0.1:0", checkpointEvery: 0}, "--checkpoint-every"},
		{"missing genesis", workerFlags{genesis: filepath.Join(t.TempDir(), "none.json"), teeKind: "sim", checkpointEvery: 1}, "--genesis"},
		{"unknown tee", workerFlags{genesis: gen, teeKind: "sev", checkpointEvery: 1, operator: testOperator}, "--tee"},
		{"relay API not on loopback", workerFlags{genesis: gen, teeKind: "sim", relayListen: "0.0.0.0:0", listen: "127.0.0.1:0", checkpointEvery: 1, operator: testOperator}, "loopback"},
		{"no operator at the first start", workerFlags{genesis: gen, teeKind: "sim", relayListen: "127.0.0.1:0", listen: "127.0.0.1:0", checkpointEvery: 1}, "--operator"},
		{"malformed operator", workerFlags{genesis: gen, teeKind: "sim", relayListen: "127.0.0.1:0", listen: "127.0.0.1:0", checkpointEvery: 1, operator: "alice"}, "--operator"},
		{"public API beyond loopback without --expose", workerFlags{genesis: gen, teeKind: "sim", relayListen: "127.0.0.1:0", listen: "0.0.0.0:0", checkpointEvery: 1, operator: testOperator}, "loopback"},
		{"malformed --advertise", workerFlags{genesis: gen, teeKind: "sim", relayListen: "127.0.0.1:0", listen: "127.0.0.1:0", advertise: "worker.example.org:80", checkpointEvery: 1, operator: testOperator}, "http:// or https://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.home = t.TempDir()
			err := tc.f.run(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error about %s, got %v", tc.want, err)
			}
		})
	}
}

func TestWorkerCommandServesAndStops(t *testing.T) {
	f := workerFlags{home: t.TempDir(), genesis: testGenesis(t), teeKind: "sim", relayListen: "127.0.0.1:0", listen: "127.0.0.1:0", checkpointEvery: 10, operator: testOperator}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	var info workerJSON
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw, err := os.ReadFile(filepath.Join(f.home, workerInfoFile))
		if err == nil && json.Unmarshal(raw, &info) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s: %v", workerInfoFile, err)
		}
		select {
		case err := <-done:
			t.Fatalf("worker stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := relay.NewHTTPRuntime(info.RelayAPI, "").Status(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("relay API without the token: %v", err)
	}
	if info.Operator != testOperator || info.RelayToken != filepath.Join(f.home, relaywire.TokenFile) {
		t.Fatalf("worker.json: operator %q, token file %q", info.Operator, info.RelayToken)
	}
	tok, err := relay.ReadToken(info.RelayToken)
	if err != nil {
		t.Fatal(err)
	}
	st, err := relay.NewHTTPRuntime(info.RelayAPI, tok).Status(ctx)
	if err != nil || st.ChainID != "worker-cli-test" || st.Height != 0 {
		t.Fatalf("relay status: %+v %v", st, err)
	}
	resp, err := http.Get(info.PublicAPI + api.PublicPathStatus)
	if err != nil {
		t.Fatal(err)
	}
	var pub api.StatusJSON
	err = json.NewDecoder(resp.Body).Decode(&pub)
	resp.Body.Close()
	if err != nil || pub.IdentityKey != info.IdentityKey || pub.StateHash != info.StateHash {
		t.Fatalf("public status %+v (%v), announced %+v", pub, err, info)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}
	done <- nil // for the deferred receive
}
