package enclave

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScoreSealed: a worker measures its score once and keeps it sealed;
// a file edited on disk, or sealed for another node or chain, is refused.
func TestScoreSealed(t *testing.T) {
	p := newSim(t, t.TempDir(), 1)
	home := t.TempDir()
	id := devKey("alice").Public().(ed25519.PublicKey)
	first, err := measureScore(p, home, "chain-a", id, 20*time.Millisecond)
	if err != nil || first.Score == 0 {
		t.Fatalf("measure: %+v, %v", first, err)
	}
	again, err := measureScore(p, home, "chain-a", id, time.Hour) // read back: no hour of work
	if err != nil || again != first {
		t.Fatalf("second start: %+v, %v; want %+v", again, err, first)
	}
	if _, err := measureScore(p, home, "chain-b", id, time.Millisecond); !errors.Is(err, ErrScore) {
		t.Fatalf("another chain's file: %v", err)
	}
	other := devKey("bob").Public().(ed25519.PublicKey)
	if _, err := measureScore(p, home, "chain-a", other, time.Millisecond); !errors.Is(err, ErrScore) {
		t.Fatalf("another node's file: %v", err)
	}
	path := filepath.Join(home, ScoreFile)
	blob, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blob[len(blob)-1] ^= 1
	if err := os.WriteFile(path, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := measureScore(p, home, "chain-a", id, time.Millisecond); !errors.Is(err, ErrScore) {
		t.Fatalf("an edited file: %v", err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte{1}, 8), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := measureScore(p, home, "chain-a", id, time.Millisecond); !errors.Is(err, ErrScore) {
		t.Fatalf("garbage: %v", err)
	}
}
