package demo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/demo"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/network/devworker"
)

// TestDemoOnDevnet runs the demo's inference scenario through Run on the
// development network (in process, two workers), then a demo given a URL
// that is not one of the cluster's workers (the gatekeeper's): the first
// step fails naming it, every later step is skipped, and Run reports
// ErrFailed. (The whole demo runs in e2e/TestDemoConfidential.)
func TestDemoOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and two workers, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	d := teedevnet.Start(t, ctx, devworker.WorkerRoles...)

	var heard []demo.Step
	rep, err := demo.Run(ctx, demo.Config{Client: d.Client, Workers: d.WorkerURLs(), WorkDir: t.TempDir(), Scenarios: []string{"inference"},
		Progress: func(s demo.Step) { heard = append(heard, s) }})
	if err != nil {
		for _, s := range rep.Steps {
			t.Log(s.Text())
		}
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Steps) != 6 || len(heard) != 6 || rep.Contracts["inference"].Contract == "" || rep.ChainID != "phala-devnet" {
		t.Fatalf("report %+v, %d steps heard", rep, len(heard))
	}
	last := rep.Steps[5]
	if last.Scenario != "inference" || !strings.Contains(last.Detail, "signed by the contract's key (2 workers agree)") {
		t.Fatalf("last step %+v", last)
	}

	wrong := []string{d.WorkerURLs()[0], d.Gatekeeper.PublicURL()}
	rep, err = demo.Run(ctx, demo.Config{Client: d.Client, Workers: wrong, WorkDir: t.TempDir(), Scenarios: []string{"token"}, StepTimeout: 30 * time.Second})
	if !errors.Is(err, demo.ErrFailed) || rep.OK {
		t.Fatalf("a demo asking a non-worker: %v, ok %v", err, rep.OK)
	}
	if first := rep.Steps[0]; first.OK || !strings.Contains(first.Error, "not assigned to cluster") {
		t.Fatalf("first step %+v", first)
	}
	for _, s := range rep.Steps[1:] {
		if !s.Skipped {
			t.Fatalf("step %d ran after the network check failed: %+v", s.N, s)
		}
	}
}
