package node

import (
	"context"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
)

// preApp counts pre-checks and can hold FinalizeBlock to show that a
// pre-check does not wait for the ABCI lock.
type preApp struct {
	abci.BaseApplication

	mu        sync.Mutex
	prechecks int
	inBlock   chan struct{}
	release   chan struct{}
}

func (a *preApp) PreCheckTx(context.Context, []byte) {
	a.mu.Lock()
	a.prechecks++
	a.mu.Unlock()
}

func (a *preApp) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.prechecks
}

func (a *preApp) FinalizeBlock(context.Context, *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	close(a.inBlock)
	<-a.release
	return &abci.FinalizeBlockResponse{}, nil
}

func TestMempoolClientPreChecks(t *testing.T) {
	ctx := context.Background()
	app := &preApp{inBlock: make(chan struct{}), release: make(chan struct{})}
	cc := newClientCreator(app)
	mem, err := cc.NewABCIMempoolClient()
	if err != nil {
		t.Fatal(err)
	}
	cons, err := cc.NewABCIConsensusClient()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		typ  abci.CheckTxType
		want int
	}{
		{"new transaction", abci.CHECK_TX_TYPE_CHECK, 1},
		{"recheck", abci.CHECK_TX_TYPE_RECHECK, 1},
		{"another new one", abci.CHECK_TX_TYPE_CHECK, 2},
	}
	for _, tc := range tests {
		if _, err := mem.CheckTxAsync(ctx, &abci.CheckTxRequest{Tx: []byte("tx"), Type: tc.typ}); err != nil {
			t.Fatal(err)
		}
		if got := app.count(); got != tc.want {
			t.Fatalf("%s: %d pre-checks, want %d", tc.name, got, tc.want)
		}
	}

	// While a block holds the lock, a pre-check still runs; CheckTx waits.
	blockDone := make(chan struct{})
	go func() {
		defer close(blockDone)
		_, _ = cons.FinalizeBlock(ctx, &abci.FinalizeBlockRequest{})
	}()
	<-app.inBlock
	checkDone := make(chan struct{})
	go func() {
		defer close(checkDone)
		_, _ = mem.CheckTx(ctx, &abci.CheckTxRequest{Tx: []byte("tx"), Type: abci.CHECK_TX_TYPE_CHECK})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for app.count() != 3 {
		if time.Now().After(deadline) {
			t.Fatal("pre-check waited for the block")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-checkDone:
		t.Fatal("CheckTx ran while a block held the lock")
	default:
	}
	close(app.release)
	<-blockDone
	<-checkDone
}

func TestMempoolClientWithoutPreChecker(t *testing.T) {
	mem, err := newClientCreator(abci.NewBaseApplication()).NewABCIMempoolClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mem.(preCheckClient); ok {
		t.Fatal("an application without PreCheckTx got a pre-checking client")
	}
}
