package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/tokenomics/fixed"
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
	d := startCLIDevnet(t, nil)
	conn := d.conn
	as := d.as

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
	good := p
	good.AnswerWindow = 9 * time.Second
	goodFile := writeJSON(t, good)
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
		{"a session by its number without --id", append([]string{"query", "session", "7"}, conn...), nil, "use --id 7"},
		{"session named twice", append([]string{"query", "session", worker, "--id", "7"}, conn...), nil, "one of them"},
		{"params by someone else", as("bob", "tx", "compute", "set-params", "--set", "answer_window=8s"), computeapi.ErrUnauthorized, ""},
		{"params out of range", as("alice", "tx", "compute", "set-params", "--file", badFile), computeapi.ErrParams, ""},
		{"settle_every is fixed", as("alice", "tx", "compute", "set-params", "--set", "settle_every=20s"), computeapi.ErrParams, ""},
		{"an unknown param", as("alice", "tx", "compute", "set-params", "--set", "nonsense=1"), nil, "no param"},
		{"params from a file", as("alice", "tx", "compute", "set-params", "--file", goodFile), nil, `"height"`},
		{"the same params again", as("alice", "tx", "compute", "set-params", "--file", goodFile), nil, "nothing to change"},
		{"params by --set", as("alice", "tx", "compute", "set-params", "--set", "economy.treasury_share=0.25", "--set", "answer_window=8s"), nil, `"height"`},
		{"other modules' params", as("alice", "tx", "pool", "set-params", "--set", "withdraw_grace=2h"), nil, `"height"`},
		{"bank fee out of range", as("alice", "tx", "bank", "set-params", "--set", "base_fee=1000000000000000000"), bankapi.ErrParams, ""},
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
	out, err = runPhala(t, append([]string{"query", "compute-params"}, conn...)...)
	if err != nil {
		t.Fatal(err)
	}
	var after computeapi.Params
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatal(err)
	}
	want := p
	want.AnswerWindow, want.Economy.TreasuryShare = 8*time.Second, fixed.MustRatio(1, 4)
	if after != want {
		t.Fatalf("params after the changes %+v, want %+v", after, want)
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
