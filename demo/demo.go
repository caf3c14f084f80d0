// Package demo is `phala demo`: on a running development network it
// builds the four example contracts from their sources, deploys them, and
// runs each one's scenario as a user would (a private token transfer, a
// secret read by a granted reader and refused to a stranger, a private
// vote, an inference on sealed inputs), checking every outcome: balances
// read back by signed queries, every worker's receipt equal, the refusal
// carrying the contract's error, the tally, the signed prediction.
//
// A run is a list of numbered steps; each checks what it did and the
// report's verdict is true only if every step did what it should. The CLI
// prints the steps; tests run the same code (Run) and read the report.
//
// The demo acts with the development accounts alice, bob and carol, whose
// keys come from public seeds (crypto/keyring.DevSeed): it is for
// development networks only. The stranger is a key made for the run.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/contracts"
)

// Config says where the demo runs and what it does.
type Config struct {
	// Client talks to a node of the network.
	Client *client.Client
	// Workers are the public API URLs of the cluster's workers; every one
	// is asked for every receipt and query, and their answers must agree.
	Workers []string
	// Cluster the contracts go to ("": client.DefaultCluster).
	Cluster string
	// WorkDir is where contract modules are written and built (a
	// temporary directory of the caller's).
	WorkDir string
	// Scenarios to run, by example name (empty: all of
	// contracts.Examples).
	Scenarios []string
	// Inputs are the secret values the scenarios use (zero: NewInputs).
	Inputs *Inputs
	// StepTimeout bounds each step (0: DefaultStepTimeout).
	StepTimeout time.Duration
	// Progress, if set, hears of each step as it ends.
	Progress func(Step)
}

// DefaultStepTimeout bounds a step: a build without a warm Go cache takes
// the longest.
const DefaultStepTimeout = 3 * time.Minute

// Step is one numbered step and how it went.
type Step struct {
	N        int    `json:"n"`
	Scenario string `json:"scenario"` // "" for the network check and the contract keys
	Title    string `json:"title"`
	OK       bool   `json:"ok"`
	Skipped  bool   `json:"skipped,omitempty"` // not run: an earlier step of its scenario failed
	Detail   string `json:"detail,omitempty"`  // what the step saw
	Error    string `json:"error,omitempty"`
	Millis   int64  `json:"ms"`
}

// Report is a whole run.
type Report struct {
	ChainID   string              `json:"chain_id"`
	Node      string              `json:"node"`
	Workers   []string            `json:"workers"`
	Inputs    Inputs              `json:"inputs"`
	Contracts map[string]Deployed `json:"contracts"`
	Steps     []Step              `json:"steps"`
	// OK: every step did what it should.
	OK     bool `json:"ok"`
	Failed int  `json:"failed"`
}

// Deployed is an example contract as this run deployed it.
type Deployed struct {
	CodeHash string `json:"code_hash"`
	Size     int    `json:"size"`
	Contract string `json:"contract,omitempty"`
}

// ErrFailed: some step did not do what it should (the report says which).
var ErrFailed = errors.New("demo failed")

// Run runs the demo and reports every step. The error is ErrFailed when a
// step failed, or what kept the demo from starting.
func Run(ctx context.Context, cfg Config) (Report, error) {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	r.runStep(ctx, "", "the network is ready", r.checkNetwork)
	for _, name := range r.scenarios {
		r.runStep(ctx, name, "build "+name+" from its source (embedded SDK, phala contract build)", func(ctx context.Context) (string, error) { return r.build(ctx, name) })
	}
	for _, name := range r.scenarios {
		r.runStep(ctx, name, "deploy "+name+": upload its code, instantiate it in cluster "+r.cluster, func(ctx context.Context) (string, error) { return r.deploy(ctx, name) })
	}
	r.runStep(ctx, "", "the gatekeepers publish each contract's key on chain", r.waitContractKeys)
	for _, name := range r.scenarios {
		for _, s := range r.scenario(name) {
			r.runStep(ctx, name, s.title, s.run)
		}
	}
	return r.finish()
}

// step is one action of a scenario and its check.
type step struct {
	title string
	run   func(ctx context.Context) (detail string, err error)
}

func (r *run) scenario(name string) []step {
	switch name {
	case contracts.Token:
		return r.tokenSteps()
	case contracts.SecretStore:
		return r.secretStoreSteps()
	case contracts.Voting:
		return r.votingSteps()
	case contracts.Inference:
		return r.inferenceSteps()
	}
	return nil
}

// runStep runs one step unless an earlier step of its scenario (or of the
// network) failed, and records it.
func (r *run) runStep(ctx context.Context, scenario, title string, f func(context.Context) (string, error)) {
	s := Step{N: len(r.report.Steps) + 1, Scenario: scenario, Title: title}
	switch {
	case r.failed[""]:
		s.Skipped, s.Error = true, "not run: a step every scenario needs failed"
	case r.failed[scenario]:
		s.Skipped, s.Error = true, "not run: an earlier step of "+scenario+" failed"
	default:
		start := time.Now()
		sctx, cancel := context.WithTimeout(ctx, r.stepTimeout)
		detail, err := f(sctx)
		cancel()
		s.Millis = time.Since(start).Milliseconds()
		s.Detail = detail
		if err != nil {
			s.Error = err.Error()
		} else {
			s.OK = true
		}
	}
	if !s.OK {
		r.failed[scenario] = true
	}
	r.report.Steps = append(r.report.Steps, s)
	if r.cfg.Progress != nil {
		r.cfg.Progress(s)
	}
}

func (r *run) finish() (Report, error) {
	rep := r.report
	for _, s := range rep.Steps {
		if !s.OK {
			rep.Failed++
		}
	}
	rep.OK = rep.Failed == 0 && len(rep.Steps) > 0
	if !rep.OK {
		return rep, fmt.Errorf("%w: %d of %d steps did not do what they should", ErrFailed, rep.Failed, len(rep.Steps))
	}
	return rep, nil
}

// run is one demo run's state: what earlier steps made, later ones use.
type run struct {
	cfg         Config
	c           *client.Client
	cluster     string
	scenarios   []string
	inputs      Inputs
	people      people
	stepTimeout time.Duration
	built       map[string][]byte // example name -> wasm
	ids         map[string]contractsapi.Hash
	failed      map[string]bool // scenario ("" = the network) -> a step failed
	report      Report
	// Later steps of a scenario read what earlier ones saw.
	inferenceKey []byte
}

func newRun(ctx context.Context, cfg Config) (*run, error) {
	if cfg.Client == nil {
		return nil, errors.New("demo: no client")
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("demo: no work directory to build contracts in")
	}
	scenarios := cfg.Scenarios
	if len(scenarios) == 0 {
		scenarios = contracts.Examples
	}
	if err := CheckScenarios(scenarios); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, c: cfg.Client, cluster: cfg.Cluster, scenarios: unique(scenarios), stepTimeout: cfg.StepTimeout,
		built: map[string][]byte{}, ids: map[string]contractsapi.Hash{}, failed: map[string]bool{}}
	if r.cluster == "" {
		r.cluster = client.DefaultCluster
	}
	if r.stepTimeout <= 0 {
		r.stepTimeout = DefaultStepTimeout
	}
	if cfg.Inputs != nil {
		r.inputs = *cfg.Inputs
	} else {
		r.inputs = NewInputs()
	}
	var err error
	if r.people, err = newPeople(); err != nil {
		return nil, err
	}
	chainID, err := r.c.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: the node at %s does not answer: %w", r.c.URL(), err)
	}
	r.report = Report{ChainID: chainID, Node: r.c.URL(), Workers: slices.Clone(cfg.Workers), Inputs: r.inputs, Contracts: map[string]Deployed{}, Steps: []Step{}}
	return r, nil
}

// CheckScenarios refuses names that are no scenario of the demo.
func CheckScenarios(names []string) error {
	for _, s := range names {
		if !slices.Contains(contracts.Examples, s) {
			return fmt.Errorf("demo: no scenario %q (have %v)", s, contracts.Examples)
		}
	}
	return nil
}

// unique keeps the first of each name, in order.
func unique(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
