package node

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
)

var errTestHalt = errors.New("test upgrade needed")

// haltingApp is testApp that halts (Halter) once it has committed height
// last, as the chain application does before an upgrade it does not know.
type haltingApp struct {
	*testApp
	last int64

	once sync.Once
	ch   chan struct{}
}

func newHaltingApp(last int64) *haltingApp {
	return &haltingApp{testApp: &testApp{}, last: last, ch: make(chan struct{})}
}

func (a *haltingApp) Commit(ctx context.Context, req *abci.CommitRequest) (*abci.CommitResponse, error) {
	if _, h, _ := a.snapshot(); h >= a.last {
		a.once.Do(func() { close(a.ch) })
	}
	return a.testApp.Commit(ctx, req)
}

// ProcessProposal refuses every block after the halt, as the chain
// application does: the node never votes for a block it may not run.
func (a *haltingApp) ProcessProposal(ctx context.Context, req *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	if a.HaltReason() != nil {
		return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
	}
	return a.testApp.ProcessProposal(ctx, req)
}

func (a *haltingApp) Halted() <-chan struct{} { return a.ch }

func (a *haltingApp) HaltReason() error {
	select {
	case <-a.ch:
		return errTestHalt
	default:
		return nil
	}
}

func TestNodeStopsWhenTheAppHalts(t *testing.T) {
	home := initTestHome(t, `{}`)
	app := newHaltingApp(3)
	n := startTest(t, home, app)
	select {
	case <-n.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("the node still runs at height %d after its app halted at 3", n.Height())
	}
	if err := n.Stop(); !errors.Is(err, errTestHalt) {
		t.Fatalf("Stop: %v, want the halt reason", err)
	}
	if _, h, _ := app.snapshot(); h != 3 {
		t.Fatalf("the app executed block %d, want none after 3", h)
	}
	if got := n.Height(); got != 3 {
		t.Fatalf("block store at %d, want 3", got)
	}

	// Started again over an application that is still halted: refused.
	_, err := Start(testCtx(t, 20*time.Second), home, app)
	if !errors.Is(err, errTestHalt) {
		t.Fatalf("start of a halted app: %v, want the halt reason", err)
	}
}

func TestHaltWatchWaitsForTheBlock(t *testing.T) {
	app := newHaltingApp(0)
	blocks := make(chan int64)
	quit := make(chan struct{})
	stopped := make(chan struct{})
	var w haltWatch
	go w.watch(app, blocks, func() int64 { return 7 }, quit, func() { close(stopped) })

	blocks <- 6
	close(app.ch) // halts inside the Commit of block 7
	blocks <- 6   // a late event of an earlier block does not release it
	select {
	case <-stopped:
		t.Fatal("stopped before CometBFT announced block 7")
	case <-time.After(50 * time.Millisecond):
	}
	if !errors.Is(w.Err(), errTestHalt) {
		t.Fatalf("reason %v", w.Err())
	}
	blocks <- 7
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("not stopped after block 7 was announced")
	}
}
