package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFatalEndsCleanly: pebble's fatal hook ends the process with the
// store's path and the remedy instead of a panic and a stack dump.
func TestFatalEndsCleanly(t *testing.T) {
	var got error
	defer func(f func(error)) { exitOnDamage = f }(exitOnDamage)
	exitOnDamage = func(err error) { got = err }
	quietLogger{dir: "/x/app"}.Fatalf("bad table %d", 7)
	if !errors.Is(got, ErrDamaged) || !strings.Contains(got.Error(), "/x/app is damaged: bad table 7") || !strings.Contains(got.Error(), "restore") {
		t.Fatalf("got %v", got)
	}
}

// TestDamagedTableNamesStore: a flipped byte in a table file surfaces as
// damage to this store, with the remedy, on the first read.
func TestDamagedTableNamesStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, 0, set("a", "1"))
	// Move the data out of the log into a table file, as a long-running node's is.
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table file")
	}
	b, err := os.ReadFile(tables[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(tables[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err == nil {
		defer s.Close()
		_, err = s.Meta()
	}
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v, want damage to %s", err, dir)
	}
}
