package enclave

import (
	"testing"

	"github.com/phala-go/phala/workerwire"
)

// TestReplayWindow: each number once, in any order within the window;
// zero and numbers fallen out of the window are refused.
func TestReplayWindow(t *testing.T) {
	var w replayWindow
	steps := []struct {
		seq  uint64
		want bool
	}{
		{0, false}, {1, true}, {1, false}, {3, true}, {2, true}, {2, false},
		{100, true}, {64, true}, {65, true}, {64, false},
		{100 + sessionWindow, true}, {100, false}, {101, true}, {101, false},
		{5000, true}, {5000 - sessionWindow + 1, true}, {5000 - sessionWindow, false}, {4999, true}, {4936, true}, {4936, false},
	}
	for i, s := range steps {
		if got := w.accept(s.seq); got != s.want {
			t.Fatalf("step %d: accept(%d) = %v, want %v", i, s.seq, got, s.want)
		}
	}
}

// The client acts on these codes by number (it may not import this
// package): they must stay the registered ones.
func TestSessionCodesMatchTheWire(t *testing.T) {
	if Module != workerwire.RuntimeModule || ErrSessionUnknown.Code != workerwire.CodeSessionUnknown || ErrQueryExpired.Code != workerwire.CodeQueryExpired {
		t.Fatal("workerwire's copies of the runtime's codes differ from the registered ones")
	}
}
