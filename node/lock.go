package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFileName sits in the home. It is never removed: the lock is the flock
// on it, which the kernel drops when the holder exits, even by SIGKILL, so a
// crashed run leaves the file behind but never a stale lock.
const lockFileName = "phala.lock"

// LockFile is the file whose lock marks a home as in use.
func (h Home) LockFile() string { return filepath.Join(string(h), lockFileName) }

// HomeInUseError says another process holds the home's lock.
type HomeInUseError struct {
	Home Home
	PID  int // 0 if the holder's PID could not be read
}

func (e *HomeInUseError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("node home %s is in use: %s is locked by a running process", e.Home.Dir(), e.Home.LockFile())
	}
	return fmt.Sprintf("node home %s is in use: %s is locked by pid %d", e.Home.Dir(), e.Home.LockFile(), e.PID)
}

// HomeLock is held while a process runs a home; Unlock releases it.
type HomeLock struct{ f *os.File }

// LockHome takes the home's lock without waiting, creating the home
// directory if needed, and records this process's PID in the lock file so a
// second start can say who holds it. It must come before anything opens the
// home's stores: CometBFT and the application's Pebble stores each lock
// their own directory, but only fail later, half way through a start, with
// an error that names a store rather than the running process.
func LockHome(h Home) (*HomeLock, error) {
	if err := os.MkdirAll(h.Dir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", h.Dir(), err)
	}
	f, err := os.OpenFile(h.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", h.LockFile(), err)
	}
	if held {
		f.Close()
		return nil, &HomeInUseError{Home: h, PID: readPID(h.LockFile())}
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing %s: %w", h.LockFile(), err)
	}
	return &HomeLock{f: f}, nil
}

// Unlock releases the lock; the file stays (see lockFileName).
func (l *HomeLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's PID; 0 if unreadable (the holder may be
// between taking the lock and writing its PID).
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}
