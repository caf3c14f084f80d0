package enclave

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/lightclient"
)

func TestBadCheckpointsAreSkipped(t *testing.T) {
	c := chain(t)
	simDir := t.TempDir()
	platform := newSim(t, simDir, 1)
	template := t.TempDir()
	rt := c.open(t, template, platform, 2)
	for _, h := range []int64{2, 4, 6} { // a checkpoint each; 4 and 6 are kept
		c.feed(t, rt, h)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	st6, _ := rt.State()
	store := checkpointStore{dir: filepath.Join(template, CheckpointsDir), platform: platform, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if hs := store.heights(); len(hs) != 2 || hs[0] != 6 || hs[1] != 4 {
		t.Fatalf("checkpoints kept: %v", hs)
	}
	other := c.open(t, t.TempDir(), platform, 1_000_000)
	defer other.Close()
	otherState, _ := other.State()
	otherState.Light = st6.Light

	tamper := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	sealAs := func(p tee.Platform, st State, genesis func() []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			s := checkpointStore{dir: dir, platform: p, log: store.log}
			if err := s.save(genesis(), &st); err != nil {
				t.Fatal(err)
			}
		}
	}
	ourGenesis := func() []byte { return rt.genesis }
	gatekeeper := st6
	gatekeeper.Role = registryapi.RoleGatekeeper
	otherVersion := st6
	otherVersion.Version = StateVersion - 1
	noKeys := st6
	noKeys.Modules = st6.Modules[:1]
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    int64
	}{
		{"intact", func(*testing.T, string) {}, 6},
		{"tampered newest", tamper("6.sealed"), 4},
		{"newest sealed by another enclave", sealAs(newSim(t, simDir, 2), st6, ourGenesis), 4},
		{"newest of another identity", sealAs(platform, otherState, ourGenesis), 4},
		{"newest of another genesis", sealAs(platform, st6, func() []byte { return make([]byte, 32) }), 4},
		{"newest of another role", sealAs(platform, gatekeeper, ourGenesis), 4},
		{"newest of the format before modules (version 1)", sealLegacy(platform, st6, ourGenesis), 4},
		{"newest of another state version", sealAs(platform, otherVersion, ourGenesis), 4},
		{"newest with a module section missing", sealAs(platform, noKeys, ourGenesis), 4},
		{"file renamed to a later height", func(t *testing.T, dir string) {
			copyFile(t, filepath.Join(dir, "4.sealed"), filepath.Join(dir, "8.sealed"))
		}, 6},
		{"all tampered: start from genesis", func(t *testing.T, dir string) {
			tamper("6.sealed")(t, dir)
			tamper("4.sealed")(t, dir)
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			copyFile(t, filepath.Join(template, KeysFile), filepath.Join(home, KeysFile))
			cp := filepath.Join(home, CheckpointsDir)
			if err := os.MkdirAll(cp, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"4.sealed", "6.sealed"} {
				copyFile(t, filepath.Join(template, CheckpointsDir, name), filepath.Join(cp, name))
			}
			tc.corrupt(t, cp)
			var logs bytes.Buffer
			rt, err := Open(Config{Home: home, Genesis: c.doc, Platform: platform, Log: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close()
			if got := rt.Status().Height; got != tc.want {
				t.Fatalf("resumed at %d, want %d; log:\n%s", got, tc.want, logs.String())
			}
			if tc.want != 6 && !strings.Contains(logs.String(), "skipping checkpoint") {
				t.Fatalf("no log line for the skipped checkpoint:\n%s", logs.String())
			}
			if tc.want == 6 && !bytes.Equal(rt.StateHash(), st6.Hash()) {
				t.Fatal("resumed state differs from the checkpointed one")
			}
		})
	}
}

// legacyCheckpoint is the checkpoint format before the enclave had modules
// (checkpoint version 1, state version 3: one flat state).
type legacyCheckpoint struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	Genesis []byte
	State   legacyState
}

type legacyState struct {
	_          struct{} `cbor:",toarray"`
	Version    uint8
	Identity   []byte
	Role       registryapi.Role
	Light      lightclient.State
	Registry   []any
	Registered bool
	Outbox     []any
	Counters   []any
	Keys       []any
}

// sealLegacy writes st as the old format would have, at st's height.
func sealLegacy(p tee.Platform, st State, genesis func() []byte) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		old := legacyCheckpoint{Version: 1, Genesis: genesis(), State: legacyState{
			Version: 3, Identity: st.Identity, Role: st.Role, Light: st.Light,
			Registry: []any{}, Outbox: []any{uint64(1), nil}, Counters: []any{uint64(0), uint64(0)}, Keys: []any{},
		}}
		blob, err := p.Seal(checkpointLabel, codec.MustMarshal(old))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, strconv.FormatInt(st.Light.Height, 10)+checkpointExt), blob, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
