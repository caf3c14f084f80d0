package demo

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/network/endpoints"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/workerwire"
)

// fakeRun is a run with no network, for the runner's own logic.
func fakeRun(progress func(Step)) *run {
	return &run{cfg: Config{Progress: progress}, stepTimeout: time.Second, failed: map[string]bool{}, report: Report{Steps: []Step{}}}
}

func okStep(detail string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return detail, nil }
}

func failStep(msg string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return "saw this", errors.New(msg) }
}

// TestRunnerVerdict: a failed step skips the rest of its scenario only; a
// failed common step skips everything after it; the verdict is ok only if
// every step was, and names the steps that were not.
func TestRunnerVerdict(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(r *run)
		ok      bool
		states  string // per step: o ok, F failed, s skipped
		verdict string
	}{
		{"all ok", func(r *run) {
			r.runStep(t.Context(), "", "ready", okStep("up"))
			r.runStep(t.Context(), "a", "one", okStep("1"))
			r.runStep(t.Context(), "b", "two", okStep("2"))
		}, true, "ooo", "verdict: ok, all 3 steps did what they should"},
		{"a scenario's failure skips its later steps only", func(r *run) {
			r.runStep(t.Context(), "", "ready", okStep("up"))
			r.runStep(t.Context(), "a", "one", failStep("wrong balance"))
			r.runStep(t.Context(), "b", "two", okStep("2"))
			r.runStep(t.Context(), "a", "three", okStep("3"))
		}, false, "oFos", "verdict: FAILED, 2 of 4 steps did not do what they should (steps 2, 4)"},
		{"a common failure skips everything after it", func(r *run) {
			r.runStep(t.Context(), "a", "one", okStep("1"))
			r.runStep(t.Context(), "", "keys", failStep("no key"))
			r.runStep(t.Context(), "a", "two", okStep("2"))
			r.runStep(t.Context(), "b", "three", okStep("3"))
		}, false, "oFss", "verdict: FAILED, 3 of 4 steps did not do what they should (steps 2, 3, 4)"},
		{"no steps is no success", func(*run) {}, false, "", "verdict: FAILED, no step ran"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var heard []int
			r := fakeRun(func(s Step) { heard = append(heard, s.N) })
			tc.steps(r)
			rep, err := r.finish()
			if rep.OK != tc.ok || (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrFailed)) {
				t.Fatalf("ok %v, err %v; want ok %v", rep.OK, err, tc.ok)
			}
			var states strings.Builder
			for i, s := range rep.Steps {
				if s.N != i+1 || heard[i] != i+1 {
					t.Fatalf("step %d numbered %d, heard %v", i, s.N, heard)
				}
				switch {
				case s.OK:
					states.WriteByte('o')
				case s.Skipped:
					states.WriteByte('s')
				default:
					states.WriteByte('F')
				}
			}
			if states.String() != tc.states {
				t.Errorf("steps went %q, want %q", states.String(), tc.states)
			}
			if got := rep.Verdict(); got != tc.verdict {
				t.Errorf("verdict %q, want %q", got, tc.verdict)
			}
		})
	}
}

// TestStepTimeout: a step that does not end is stopped at the step's
// timeout and fails.
func TestStepTimeout(t *testing.T) {
	r := fakeRun(nil)
	r.stepTimeout = 50 * time.Millisecond
	r.runStep(t.Context(), "a", "hangs", func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	if s := r.report.Steps[0]; s.OK || !strings.Contains(s.Error, "deadline") {
		t.Fatalf("a hanging step: %+v", s)
	}
}

func TestStepText(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{N: 3, Scenario: "token", Title: "alice sends bob 5 tokens", OK: true, Detail: "receipts agree", Millis: 1234},
			" 3. [token] alice sends bob 5 tokens: ok (1.2s)\n    receipts agree"},
		{Step{N: 12, Title: "the network is ready", Detail: "height 4", Error: "cluster has no key", Millis: 50},
			"12. the network is ready: FAILED (0.1s)\n    height 4\n    error: cluster has no key"},
		{Step{N: 4, Scenario: "voting", Title: "tally", Skipped: true, Error: "not run"},
			" 4. [voting] tally: SKIPPED\n    error: not run"},
	}
	for _, tc := range tests {
		if got := tc.step.Text(); got != tc.want {
			t.Errorf("Text() =\n%s\nwant\n%s", got, tc.want)
		}
	}
}

// TestCheckPrediction: the demo accepts the inference contract's answer
// only with a valid signature by the contract's key over the features and
// the score, and a class that matches the score.
func TestCheckPrediction(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	features := []int64{12000, -34000, 56000, -78000}
	sign := func(score int64) []byte { return ed25519.Sign(priv, predictionBytes(features, score)) }
	r := &run{inferenceKey: pub}
	other, _, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		p    prediction
		ok   bool
	}{
		{"valid, class 0", prediction{Score: 120, Class: 0, Signature: sign(120), PublicKey: pub}, true},
		{"valid, class 1", prediction{Score: 800, Class: 1, Signature: sign(800), PublicKey: pub}, true},
		{"score changed after signing", prediction{Score: 121, Class: 0, Signature: sign(120), PublicKey: pub}, false},
		{"class does not match the score", prediction{Score: 800, Class: 0, Signature: sign(800), PublicKey: pub}, false},
		{"signed by another key", prediction{Score: 120, Class: 0, Signature: sign(120), PublicKey: other}, false},
		{"not a probability", prediction{Score: 1000, Class: 1, Signature: sign(1000), PublicKey: pub}, false},
	}
	for _, tc := range tests {
		if err := r.checkPrediction(tc.p, features); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	tests := []struct {
		a, b string
		eq   bool
	}{
		{`{"a":1,"b":[2,3]}`, `{"b":[2,3],"a":1}`, true},
		{`999647069760503`, `999647069760503`, true},
		{`999647069760503`, `999647069760504`, false}, // exact, not float64
		{`"x"`, `"y"`, false},
		{`{`, `{`, false},
	}
	for _, tc := range tests {
		if got := jsonEqual([]byte(tc.a), []byte(tc.b)); got != tc.eq {
			t.Errorf("jsonEqual(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

// TestNewInputs: each run's secret values are fresh and of the shape the
// contracts take and a scan can find.
func TestNewInputs(t *testing.T) {
	a, b := NewInputs(), NewInputs()
	if a.Secret == b.Secret || a.Salt == b.Salt || a.Ballot == b.Ballot || a.Transfer == b.Transfer {
		t.Fatalf("two runs share values: %+v %+v", a, b)
	}
	for _, in := range []Inputs{a, b} {
		if in.Transfer < 100_000_000_000 || in.Transfer >= 1_000_000_000_000 || in.Transfer >= in.TokenSupply {
			t.Errorf("transfer %d is not 12 digits below the supply", in.Transfer)
		}
		if len(in.Features) != 4 || len(in.Options) != 2 || in.Options[0] == in.Options[1] {
			t.Errorf("inputs %+v", in)
		}
		for _, f := range in.Features {
			if f < -99_999 || f > 99_999 || (f > -10_000 && f < 10_000) {
				t.Errorf("feature %d is not five digits inside the model's range", f)
			}
		}
	}
}

// TestFindTarget: a home without a running network says how to start one;
// a recorded node that does not answer says so; flags replace the record.
func TestFindTarget(t *testing.T) {
	home := t.TempDir()
	_, err := FindTarget(t.Context(), home, "", nil)
	if err == nil || !strings.Contains(err.Error(), "no devnet is running on "+home) || !strings.Contains(err.Error(), "phala devnet --home "+home) {
		t.Fatalf("empty home: %v", err)
	}
	if err := endpoints.Write(home, endpoints.File{ChainID: "phala-devnet", RPC: "http://127.0.0.1:1", Workers: []string{"http://127.0.0.1:2"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tgt, err := FindTarget(ctx, home, "", nil)
	if err == nil || !strings.Contains(err.Error(), "does not answer at http://127.0.0.1:1") || tgt.Workers[0] != "http://127.0.0.1:2" {
		t.Fatalf("a dead recorded node: %+v %v", tgt, err)
	}
	tgt, _ = FindTarget(ctx, home, "http://127.0.0.1:3", []string{"http://127.0.0.1:4"})
	if tgt.Node != "http://127.0.0.1:3" || len(tgt.Workers) != 1 || tgt.Workers[0] != "http://127.0.0.1:4" {
		t.Fatalf("flags did not replace the record: %+v", tgt)
	}
}

// TestBuildExample builds an example from its embedded source, outside
// this repository, twice: the same code hash (a rerun of the demo finds
// its code on chain).
func TestBuildExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a contract")
	}
	var hashes []string
	for range 2 {
		r := &run{cfg: Config{WorkDir: t.TempDir()}, built: map[string][]byte{}, report: Report{Contracts: map[string]Deployed{}}}
		if _, err := r.build(t.Context(), "inference"); err != nil {
			t.Fatal(err)
		}
		d := r.report.Contracts["inference"]
		if len(r.built["inference"]) != d.Size || d.Size < 1000 {
			t.Fatalf("built %d bytes, report %+v", len(r.built["inference"]), d)
		}
		if _, err := os.Stat(filepath.Join(r.cfg.WorkDir, "inference", "phala-sdk", "go.mod")); err != nil {
			t.Fatalf("the module has no SDK beside it: %v", err)
		}
		hashes = append(hashes, d.CodeHash)
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("two builds of the same source: %v", hashes)
	}
}

func TestCheckScenarios(t *testing.T) {
	if err := CheckScenarios([]string{"token", "inference"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckScenarios([]string{"token", "tokn"}); err == nil || !strings.Contains(err.Error(), `"tokn"`) {
		t.Fatalf("an unknown scenario: %v", err)
	}
	if got := unique([]string{"voting", "token", "voting"}); strings.Join(got, ",") != "voting,token" {
		t.Fatalf("unique: %v", got)
	}
}

// TestAgreementChecks: receipts agree only when every field a worker
// computes is equal; query checks accept the wanted answer or refusal
// only.
func TestAgreementChecks(t *testing.T) {
	base := workerwire.Receipt{Seq: 7, Height: 40, Status: contractsapi.StatusOK, GasUsed: 1000, Output: []byte("5"),
		Events: []workerwire.ReceiptEvent{{Topic: "token.transfer", Data: []byte(`{"amount":5}`)}}}
	if !sameReceipt(base, base) {
		t.Fatal("a receipt differs from itself")
	}
	for name, change := range map[string]func(*workerwire.Receipt){
		"gas":    func(r *workerwire.Receipt) { r.GasUsed++ },
		"status": func(r *workerwire.Receipt) { r.Status = contractsapi.StatusReverted },
		"output": func(r *workerwire.Receipt) { r.Output = []byte("6") },
		"block":  func(r *workerwire.Receipt) { r.Height++ },
		"event data": func(r *workerwire.Receipt) {
			r.Events = []workerwire.ReceiptEvent{{Topic: "token.transfer", Data: []byte(`{"amount":6}`)}}
		},
		"no events": func(r *workerwire.Receipt) { r.Events = nil },
		"payouts":   func(r *workerwire.Receipt) { r.Payouts = []contractsapi.Payout{{Amount: token.PHA(1)}} },
	} {
		other := base
		change(&other)
		if sameReceipt(base, other) {
			t.Errorf("receipts differing in %s agree", name)
		}
	}

	ok := client.QueryAnswer{QueryResult: workerwire.QueryResult{Status: contractsapi.StatusOK, Output: []byte(`{"votes":[2,1]}`)}}
	refused := client.QueryAnswer{QueryResult: workerwire.QueryResult{Status: contractsapi.StatusReverted, Output: []byte("access denied")}}
	tests := []struct {
		name  string
		check func(client.QueryAnswer) error
		a     client.QueryAnswer
		pass  bool
	}{
		{"wanted output", wantOutput(map[string]any{"votes": []int{2, 1}}), ok, true},
		{"other output", wantOutput(map[string]any{"votes": []int{1, 2}}), ok, false},
		{"refused where an output is wanted", wantOutput("x"), refused, false},
		{"wanted refusal", wantRefused("access denied"), refused, true},
		{"refused for another reason", wantRefused("ballot still open"), refused, false},
		{"answered where a refusal is wanted", wantRefused("access denied"), ok, false},
	}
	for _, tc := range tests {
		if err := tc.check(tc.a); (err == nil) != tc.pass {
			t.Errorf("%s: %v, want pass %v", tc.name, err, tc.pass)
		}
	}
}
