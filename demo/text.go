package demo

import (
	"fmt"
	"strings"
)

// Text is the step as the CLI prints it: a numbered line with the
// outcome, then what the step saw or why it failed, indented.
func (s Step) Text() string {
	var b strings.Builder
	scenario := ""
	if s.Scenario != "" {
		scenario = "[" + s.Scenario + "] "
	}
	outcome := fmt.Sprintf("ok (%.1fs)", float64(s.Millis)/1000)
	switch {
	case s.Skipped:
		outcome = "SKIPPED"
	case !s.OK:
		outcome = fmt.Sprintf("FAILED (%.1fs)", float64(s.Millis)/1000)
	}
	fmt.Fprintf(&b, "%2d. %s%s: %s", s.N, scenario, s.Title, outcome)
	if s.Detail != "" {
		fmt.Fprintf(&b, "\n    %s", s.Detail)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "\n    error: %s", s.Error)
	}
	return b.String()
}

// Header says where the demo runs, before the first step.
func Header(chainID, node string, workers []string) string {
	return fmt.Sprintf("phala demo on %s (node %s, %d workers)\nWARNING: development accounts (public keys): for development networks only", chainID, node, len(workers))
}

// Verdict is the last line: whether every step did what it should.
func (r Report) Verdict() string {
	if r.OK {
		return fmt.Sprintf("verdict: ok, all %d steps did what they should", len(r.Steps))
	}
	if len(r.Steps) == 0 {
		return "verdict: FAILED, no step ran"
	}
	var failed []string
	for _, s := range r.Steps {
		if !s.OK {
			failed = append(failed, fmt.Sprint(s.N))
		}
	}
	return fmt.Sprintf("verdict: FAILED, %d of %d steps did not do what they should (steps %s)", r.Failed, len(r.Steps), strings.Join(failed, ", "))
}
