package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"
)

func TestDevnetRunsAndResumes(t *testing.T) {
	const appState = `{"hello":"world"}`
	home := initTestHome(t, appState)
	for _, d := range []string{home.AppDataDir(), home.LogsDir(), home.DataDir()} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Fatalf("%s not created: %v", d, err)
		}
	}

	app := &testApp{}
	n := startTest(t, home, app)
	ctx := testCtx(t, 20*time.Second)
	if err := n.WaitHeight(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := app.snapshot(); !jsonEqual(got, []byte(appState)) {
		t.Errorf("InitChain app_state = %q, want %q", got, appState)
	}
	if n.ChainID() != "phala-test" {
		t.Errorf("ChainID = %q", n.ChainID())
	}

	rpc, err := rpchttp.New(n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	st, err := rpc.Status(ctx)
	if err != nil {
		t.Fatalf("status over %s: %v", n.RPCURL(), err)
	}
	if st.NodeInfo.Network != "phala-test" || st.SyncInfo.LatestBlockHeight < 3 {
		t.Errorf("status: network %q height %d", st.NodeInfo.Network, st.SyncInfo.LatestBlockHeight)
	}

	// The kv indexer must let us find a committed tx by hash.
	tx := types.Tx("tx-1")
	res, err := rpc.BroadcastTxCommit(ctx, tx)
	if err != nil || res.TxResult.IsErr() {
		t.Fatalf("broadcast: %v %+v", err, res)
	}
	// Indexing runs asynchronously after commit, so poll until it lands.
	for tick := time.NewTicker(20 * time.Millisecond); ; <-tick.C {
		found, err := rpc.Tx(ctx, tx.Hash(), false)
		if err == nil && found.Height == res.Height {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("tx lookup by hash: %v %+v", err, found)
		}
	}

	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	stopped := n.Height()
	if err := n.WaitHeight(ctx, stopped+1); err == nil {
		t.Error("WaitHeight on a stopped node succeeded")
	}
	if st, err := os.Stat(home.LogFile()); err != nil || st.Size() == 0 {
		t.Errorf("cometbft.log empty or missing: %v", err)
	}

	// A fresh app instance: CometBFT replays the stored blocks into it.
	app2 := &testApp{}
	n2 := startTest(t, home, app2, WithIndexer("null"), WithLogLevel("error"))
	if n2.Height() < stopped {
		t.Fatalf("restart began at height %d, want >= %d", n2.Height(), stopped)
	}
	if err := n2.WaitHeight(ctx, stopped+2); err != nil {
		t.Fatal(err)
	}
	if _, h, txs := app2.snapshot(); h <= stopped || txs != 1 {
		t.Errorf("restarted app at height %d with %d txs, want > %d and 1", h, txs, stopped)
	}
	if err := n2.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestInitSingleErrors(t *testing.T) {
	good := func(t *testing.T) InitOptions { return InitOptions{ChainID: "c", Ports: freePorts(t)} }
	tests := []struct {
		name   string
		modify func(*InitOptions)
		want   string
	}{
		{"no ports", func(o *InitOptions) { o.Ports = Ports{} }, "ports must be in 1..65535"},
		{"same ports", func(o *InitOptions) { o.Ports.RPC = o.Ports.P2P }, "must differ"},
		{"bad app state", func(o *InitOptions) { o.AppState = []byte("{") }, "not valid JSON"},
		{"bad timing", func(o *InitOptions) { o.Timing = Timing{TimeoutPropose: -1} }, "invalid node config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := good(t)
			tc.modify(&opts)
			home := Home(t.TempDir())
			err := InitSingle(home, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			if home.Exists() {
				t.Error("failed init left a complete home")
			}
		})
	}
}

func TestInitSingleKeepsExistingHome(t *testing.T) {
	home := initTestHome(t, `{}`)
	gen, _ := os.ReadFile(home.GenesisFile())
	err := InitSingle(home, InitOptions{Ports: freePorts(t)})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v", err)
	}
	if after, _ := os.ReadFile(home.GenesisFile()); !bytes.Equal(gen, after) {
		t.Error("genesis was rewritten")
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) Home
		opts  []StartOption
		want  func(h Home) string
	}{
		{
			name:  "missing home",
			setup: func(t *testing.T) Home { return Home(filepath.Join(t.TempDir(), "nope")) },
			want: func(h Home) string {
				return "no node home at " + h.Dir() + " (run `phala devnet` or `phala testnet` first)"
			},
		},
		{
			name:  "corrupt genesis",
			setup: func(t *testing.T) Home { return corrupt(t, func(h Home) string { return h.GenesisFile() }) },
			want:  func(h Home) string { return "genesis file " + h.Dir() + "/config/genesis.json is invalid: " },
		},
		{
			name:  "corrupt config",
			setup: func(t *testing.T) Home { return corrupt(t, func(h Home) string { return h.ConfigFile() }) },
			want:  func(h Home) string { return "config file " + h.ConfigFile() + " is invalid" },
		},
		{
			name: "corrupt validator key",
			setup: func(t *testing.T) Home {
				return corrupt(t, func(h Home) string { return filepath.Join(h.ConfigDir(), "priv_validator_key.json") })
			},
			want: func(h Home) string { return "validator key " + h.ConfigDir() + "/priv_validator_key.json is invalid" },
		},
		{
			name:  "bad log level",
			setup: func(t *testing.T) Home { return initTestHome(t, `{}`) },
			opts:  []StartOption{WithLogLevel("loud")},
			want:  func(Home) string { return `log level "loud"` },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := tc.setup(t)
			n, err := Start(t.Context(), home, &testApp{}, tc.opts...)
			if err == nil {
				_ = n.Stop()
				t.Fatal("Start succeeded")
			}
			if want := tc.want(home); !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %q\nwant containing %q", err, want)
			}
		})
	}
}

func TestLoadGenesisAppState(t *testing.T) {
	home := initTestHome(t, `{"x":1}`)
	chainID, state, err := LoadGenesisAppState(home)
	if err != nil || chainID != "phala-test" || !jsonEqual(state, []byte(`{"x":1}`)) {
		t.Fatalf("got %q %s %v", chainID, state, err)
	}
	missing := Home(t.TempDir())
	if _, _, err := LoadGenesisAppState(missing); !errors.Is(err, ErrNoHome) {
		t.Fatalf("missing home: %v", err)
	}
	bad := corrupt(t, func(h Home) string { return h.GenesisFile() })
	if _, _, err := LoadGenesisAppState(bad); err == nil || !strings.Contains(err.Error(), "is invalid") {
		t.Fatalf("corrupt genesis: %v", err)
	}
}

func TestRPCURL(t *testing.T) {
	tests := map[string]string{
		"tcp://127.0.0.1:26657": "http://127.0.0.1:26657",
		"tcp://0.0.0.0:1234":    "http://127.0.0.1:1234",
		"tcp://[::]:1234":       "http://127.0.0.1:1234",
		"tcp://10.1.2.3:99":     "http://10.1.2.3:99",
		"unix:///tmp/rpc.sock":  "unix:///tmp/rpc.sock",
	}
	for in, want := range tests {
		if got := rpcURL(in); got != want {
			t.Errorf("rpcURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// jsonEqual compares JSON ignoring layout (genesis.json is re-indented on save).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// corrupt makes a valid home and overwrites one of its files with junk.
func corrupt(t *testing.T, file func(Home) string) Home {
	t.Helper()
	home := initTestHome(t, `{}`)
	if err := os.WriteFile(file(home), []byte("{ not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}
