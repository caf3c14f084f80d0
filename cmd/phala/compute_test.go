package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/node"
)

// TestComputeCommandsOnDevnet runs the compute transactions and queries
// of the CLI against a devnet in this process, in JSON: the devnet's
// params, the reward pool and the schedule, sessions, and refusals with
// their codes (a params change out of range, by someone not the admin, a
// stop of a worker that does not compute, a zero stake).
func TestComputeCommandsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	home := node.Home(t.TempDir())
	ports, err := node.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	timing := node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 20 * time.Millisecond, CreateEmptyBlocks: true}
	if err := network.InitDevnet(home, network.DevnetOptions{Ports: ports, Timing: timing}); err != nil {
		t.Fatal(err)
	}
	v, err := network.Start(t.Context(), home, slog.New(slog.DiscardHandler), node.WithTiming(timing))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Stop() })
	t.Setenv("PHALA_PASSPHRASE", network.DevPassphrase)
	conn := []string{"--node", v.Node.RPCURL(), "-o", "json"}
	keyring := []string{"--keyring", network.KeyringDir(home)}
	as := func(who string, args ...string) []string {
		return append(append(append(args, "--from", who), keyring...), conn...)
	}

	out, err := runPhala(t, append([]string{"query", "compute-params"}, conn...)...)
	if err != nil {
		t.Fatal(err)
	}
	var p computeapi.Params
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.SettleEvery != computeapi.DevnetParams().SettleEvery {
		t.Fatalf("compute-params printed %q (%v)", out, err)
	}
	bad := p
	bad.Economy.CoolDown = time.Second // shorter than a settlement period
	badFile := writeJSON(t, bad)
	goodFile := writeJSON(t, p)
	worker := strings.Repeat("ab", 32)

	steps := []struct {
		name string
		args []string
		want error  // a module error the command must return
		text string // else: a substring of the error, or of the JSON output
	}{
		{"reward pool", append([]string{"query", "reward-pool"}, conn...), nil, `"balance_pha": "700000000 PHA"`},
		{"emission", append([]string{"query", "emission"}, conn...), nil, `"per_day_now_pha": "720000 PHA"`},
		{"sessions", append([]string{"query", "sessions"}, conn...), nil, `[]`},
		{"sessions of a pool", append([]string{"query", "sessions", "--pool", "1"}, conn...), nil, `[]`},
		{"session of a worker with no score", append([]string{"query", "session", worker}, conn...), module.ErrNotFound, ""},
		{"an unknown session", append([]string{"query", "session", "--id", "7"}, conn...), module.ErrNotFound, ""},
		{"session named twice", append([]string{"query", "session", worker, "--id", "7"}, conn...), nil, "one of them"},
		{"params by someone else", as("bob", "tx", "compute", "set-params", "--file", goodFile), computeapi.ErrUnauthorized, ""},
		{"params out of range", as("alice", "tx", "compute", "set-params", "--file", badFile), computeapi.ErrParams, ""},
		{"the same params", as("alice", "tx", "compute", "set-params", "--file", goodFile), nil, `"height"`},
		{"stop a worker not computing", as("alice", "tx", "compute", "stop", "--worker", worker), computeapi.ErrNotComputing, ""},
		{"start with no stake", as("alice", "tx", "compute", "start", "--worker", worker, "--stake", "0"), computeapi.ErrStakeTooLow, ""},
		{"a worker that is not a key, refused before sending", as("alice", "tx", "compute", "start", "--worker", "abc", "--stake", "1"), nil, "64 hex digits"},
	}
	for _, s := range steps {
		out, err := runPhala(t, s.args...)
		switch {
		case s.want != nil:
			if !errors.Is(err, s.want) {
				t.Fatalf("%s: %v, want %v", s.name, err, s.want)
			}
		case err != nil:
			if s.text == "" || !strings.Contains(err.Error(), s.text) {
				t.Fatalf("%s: %v", s.name, err)
			}
		default:
			var v any
			if json.Unmarshal([]byte(out), &v) != nil || !strings.Contains(out, s.text) {
				t.Fatalf("%s: output %q, want JSON with %s", s.name, out, s.text)
			}
		}
	}
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
