//go:build unix

package node

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLockHome: a second lock on a locked home fails naming the holder's
// PID, and the home can be locked again once released.
func TestLockHome(t *testing.T) {
	home := Home(filepath.Join(t.TempDir(), "home"))
	first, err := LockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockHome(home)
	var inUse *HomeInUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() {
		t.Fatalf("second lock: got %v, want a HomeInUseError with pid %d", err, os.Getpid())
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := LockHome(home)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again.Unlock()
}

// TestLockHomeIgnoresStaleFile: a lock file left by a dead process (its
// PID still inside) does not block a start.
func TestLockHomeIgnoresStaleFile(t *testing.T) {
	home := Home(t.TempDir())
	if err := os.WriteFile(home.LockFile(), []byte("999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := LockHome(home)
	if err != nil {
		t.Fatalf("stale lock file blocked the lock: %v", err)
	}
	l.Unlock()
}
