package node

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
)

// testApp accepts every tx and returns a fixed app hash, so blocks can be
// replayed into a fresh instance after a restart.
type testApp struct {
	abci.BaseApplication

	mu       sync.Mutex
	appState []byte
	height   int64
	txs      int
}

var testAppHash = []byte("phala-node-test-app-hash")

func (a *testApp) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appState = append([]byte(nil), req.AppStateBytes...)
	return &abci.InitChainResponse{}, nil
}

func (a *testApp) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	res, err := a.BaseApplication.FinalizeBlock(ctx, req)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.height = req.Height
	a.txs += len(req.Txs)
	res.AppHash = testAppHash
	return res, nil
}

func (a *testApp) snapshot() (appState []byte, height int64, txs int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appState, a.height, a.txs
}

// testTiming makes a single validator commit a block every few tens of ms.
func testTiming() Timing {
	return Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 50 * time.Millisecond, CreateEmptyBlocks: true}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func freePorts(t *testing.T) Ports {
	t.Helper()
	ports, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	if ports.RPC == ports.P2P {
		t.Fatalf("FreePorts returned %d twice", ports.RPC)
	}
	return ports
}

// freeRange finds a base port with n consecutive free ports on 127.0.0.1.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if base+n <= 65535 && rangeFree(base, n) {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports found", n)
	return 0
}

func rangeFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// initTestHome lays out a devnet home for tests.
func initTestHome(t *testing.T, appState string) Home {
	t.Helper()
	home := Home(filepath.Join(t.TempDir(), "home"))
	err := InitSingle(home, InitOptions{
		ChainID:  "phala-test",
		AppState: []byte(appState),
		Ports:    freePorts(t),
		Timing:   testTiming(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return home
}

func startTest(t *testing.T, home Home, app abci.Application, opts ...StartOption) *Node {
	t.Helper()
	n, err := Start(testCtx(t, 20*time.Second), home, app, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	return n
}
