package vm

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/phala-go/phala/sdk"
	"github.com/phala-go/phala/vm/meter"
)

const gasLimit = 50_000_000

func msg(method string, args any) []byte {
	b, err := sdk.EncodeMessage(method, args)
	if err != nil {
		panic(err)
	}
	return b
}

type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func loadProbe(t testing.TB, e *Engine) *Module {
	t.Helper()
	m, err := e.Load(context.Background(), probeCode(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGoContractFailures(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	m := loadProbe(t, e)
	tests := []struct {
		method string
		want   error
		text   string
		gas    uint64 // 0: gasLimit
	}{
		{"loop", meter.ErrOutOfGas, "out of gas", 0},
		{"recurse", meter.ErrOutOfGas, "out of gas", 0},
		{"recurse", meter.ErrStackOverflow, "call depth over", 1 << 40},
		{"grow", meter.ErrOutOfGas, "out of gas", 0},
		{"grow", ErrTrap, `"runtime: out of memory`, 1 << 40},
		{"trap", ErrTrap, "out of bounds memory access", 0},
		{"panic", ErrReverted, "panic: boom", 0},
		{"exit", ErrExit, `code 3: "leaving"`, 0},
		{"fatal", ErrTrap, `unreachable: "panic: fatal boom"`, 0}, // the Go runtime traps after printing
		{"deadlock", ErrTrap, "unreachable", 0},
		{"nosuch", ErrReverted, `unknown method "nosuch"`, 0},
	}
	for _, tt := range tests {
		if tt.gas == 0 {
			tt.gas = gasLimit
		}
		t.Run(fmt.Sprintf("%s/gas=%d", tt.method, tt.gas), func(t *testing.T) {
			var first string
			var gas uint64
			for run := range 2 {
				store := NewMemStore()
				inst := m.NewInstance(testEnv(store))
				res, err := inst.Call(ctx, Call{Input: msg(tt.method, struct{}{}), GasLimit: tt.gas})
				if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("%s: %v, want %v containing %q", tt.method, err, tt.want, tt.text)
				}
				if run == 0 {
					first, gas = err.Error(), res.GasUsed
					t.Logf("%s: %v; gas %d", tt.method, err, res.GasUsed)
				} else if first != err.Error() || gas != res.GasUsed {
					t.Fatalf("second run differs: %q gas %d vs %q gas %d", err, res.GasUsed, first, gas)
				}
				// The same instance goes on serving.
				if _, err := inst.Call(ctx, Call{Input: msg("noop", struct{}{}), GasLimit: gasLimit}); err != nil {
					t.Fatalf("noop after %s: %v", tt.method, err)
				}
			}
		})
	}
}

func TestGoContractStorage(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	m := loadProbe(t, e)
	store := NewMemStore()
	inst := m.NewInstance(testEnv(store))
	call := func(mode Mode, method string, args any) (Result, error) {
		return inst.Call(ctx, Call{Mode: mode, Input: msg(method, args), GasLimit: gasLimit})
	}
	for _, k := range []string{"b/2", "a/1", "b/1", "c"} {
		if _, err := call(Command, "set", kv{k, "v" + k}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := call(Command, "set_then_fail", kv{"b/0", "x"})
	if !errors.Is(err, ErrReverted) || string(res.Output) != "refused b/0" || len(res.Events) != 0 {
		t.Fatalf("revert: %v %q %v", err, res.Output, res.Events)
	}
	res, err = call(Query, "scan", kv{Key: "b/"})
	if err != nil || string(res.Output) != `["b/1=vb/1","b/2=vb/2"]` {
		t.Fatalf("scan: %v %s", err, res.Output)
	}
	if res, err = call(Command, "sleep", nil); err != nil || string(res.Output) != "107" {
		t.Fatalf("sleep: %v %s", err, res.Output)
	}
	if res, err = call(Query, "get", kv{Key: "c"}); err != nil || string(res.Output) != `"vc"` {
		t.Fatalf("get: %v %s", err, res.Output)
	}
	if _, err = call(Query, "set", kv{"q", "1"}); !errors.Is(err, ErrReverted) {
		t.Fatalf("command method in query: %v", err)
	}
	if res, err = call(Command, "fill", map[string]int{"n": 100}); err != nil || string(res.Output) != "4950" {
		t.Fatalf("fill: %v %s", err, res.Output)
	}
	if store.Len() != 104 {
		t.Fatalf("store has %d entries", store.Len())
	}
}

func TestGoContractDelete(t *testing.T) {
	ctx := context.Background()
	m := loadProbe(t, newEngine(t, Config{}))
	store := NewMemStore()
	inst := m.NewInstance(testEnv(store))
	for _, step := range []struct {
		method string
		key    string
	}{{"set", "gone"}, {"set", "kept"}, {"delete", "gone"}, {"delete", "never-set"}} {
		if _, err := inst.Call(ctx, Call{Input: msg(step.method, kv{step.key, "v"}), GasLimit: gasLimit}); err != nil {
			t.Fatalf("%s %s: %v", step.method, step.key, err)
		}
	}
	if _, ok, _ := store.Get([]byte("gone")); ok || store.Len() != 1 {
		t.Fatalf("after delete: %d entries, gone present %v", store.Len(), ok)
	}
}

func TestGoContractEnv(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	m := loadProbe(t, e)
	var outs [2]string
	for run := range 2 {
		inst := m.NewInstance(testEnv(nil))
		res, err := inst.Call(ctx, Call{Caller: []byte("alice"), Height: 7, Time: 1234, Nonce: 9, Input: msg("env", struct{}{}), GasLimit: gasLimit})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Caller, Contract string
			Height, Time     int64
			Random, Pub, Sig []byte
		}
		if err := json.Unmarshal(res.Output, &got); err != nil {
			t.Fatal(err)
		}
		if got.Caller != "alice" || got.Contract != "c1" || got.Height != 7 || got.Time != 1234 || len(got.Random) != 8 {
			t.Fatalf("env: %+v", got)
		}
		if !ed25519.Verify(got.Pub, []byte("msg"), got.Sig) {
			t.Fatal("signature does not verify with the contract's public key")
		}
		if len(res.Events) != 2 || res.Events[0].Topic != "secret" || len(res.Events[0].Audience) != 2 ||
			string(res.Events[0].Audience[1]) != "bob" || res.Events[1].Audience != nil {
			t.Fatalf("events: %+v", res.Events)
		}
		outs[run] = string(res.Output) + fmt.Sprint(res.GasUsed)
	}
	if outs[0] != outs[1] {
		t.Fatalf("two runs differ:\n%s\n%s", outs[0], outs[1])
	}
}

func TestHTTPGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = w.Write(make([]byte, 5000))
			return
		}
		_, _ = w.Write([]byte("price=42"))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	e := newEngine(t, Config{HTTP: HTTPConfig{AllowHosts: []string{host}, MaxBytes: 1000}})
	m := loadProbe(t, e)
	inst := m.NewInstance(testEnv(nil))
	ctx := context.Background()
	tests := []struct {
		mode Mode
		url  string
		out  string
		err  string
	}{
		{Query, srv.URL + "/p", `"200 price=42"`, ""},
		{Query, srv.URL + "/big", "", "response over 1000 bytes"},
		{Query, "http://example.invalid/", "", "not allowed"},
		{Query, "file:///etc/passwd", "", "not an http(s) URL"},
		{Command, srv.URL + "/p", "", "http_get is query-only"},
	}
	for _, tt := range tests {
		method := "http"
		if tt.mode == Command {
			method = "http_cmd"
		}
		u, _ := url.Parse(tt.url)
		res, err := inst.Call(ctx, Call{Mode: tt.mode, Input: msg(method, kv{Key: u.String()}), GasLimit: gasLimit})
		if tt.err == "" && (err != nil || string(res.Output) != tt.out) {
			t.Fatalf("%s: %v %s", tt.url, err, res.Output)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Fatalf("%s: %v, want %q", tt.url, err, tt.err)
		}
	}
}

// TestGasIndependentOfQueries: queries (which differ per worker) run on
// their own reactor, so they never change what a command costs; Reset
// brings an instance back to a fresh reactor's costs.
func TestGasIndependentOfQueries(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	m := loadProbe(t, e)
	cmd := Call{Input: msg("fill", map[string]int{"n": 20}), GasLimit: gasLimit}
	gasOf := func(inst *Instance) uint64 {
		res, err := inst.Call(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		return res.GasUsed
	}
	a := m.NewInstance(testEnv(nil))
	b := m.NewInstance(testEnv(nil))
	for range 3 {
		if _, err := b.Call(ctx, Call{Mode: Query, Input: msg("scan", kv{Key: "fill/"}), GasLimit: gasLimit}); err != nil {
			t.Fatal(err)
		}
	}
	ga, gb := gasOf(a), gasOf(b)
	if ga != gb {
		t.Fatalf("command gas %d after no queries, %d after queries", ga, gb)
	}
	if err := a.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	c := m.NewInstance(testEnv(nil))
	if g1, g2 := gasOf(a), gasOf(c); g1 != g2 || g1 != ga {
		t.Fatalf("after reset %d, fresh instance %d, first call %d", g1, g2, ga)
	}
}
