// Package damagetest damages stores the way disks and hand edits do, for
// the tests of the checks that must find it. Test support only: no program
// links it (internal/archtest).
package damagetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble"
	pebble2 "github.com/cockroachdb/pebble/v2"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// FlipTables flips one byte in the middle of every Pebble table file in dir,
// which the store's block checksums must catch on read.
func FlipTables(t testing.TB, dir string) {
	t.Helper()
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table files in " + dir)
	}
	for _, path := range tables {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FlipCometStore damages one of CometBFT's Pebble (v1) stores in dir: it
// first compacts the data into table files (a stopped node's last writes
// may be only in the log, which no checksum guards the same way), then
// flips a byte in each table.
func FlipCometStore(t testing.TB, dir string) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Compact([]byte{0}, []byte{0xff, 0xff, 0xff}, true); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	FlipTables(t, dir)
}

// FlipAppStore damages the application's Pebble (v2) store in dir: it
// flushes the data into table files, then flips a byte in each table.
func FlipAppStore(t testing.TB, dir string) {
	t.Helper()
	db, err := pebble2.Open(dir, &pebble2.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	FlipTables(t, dir)
}

// quiet keeps Pebble's logs out of test output; Fatalf never fires on a
// store the test has not damaged yet.
type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(string, ...any) {}

// EditFirstBalance adds one unit to the first account of the application
// store in dir and commits it with the store's own meta, as a hand edit of
// the database would look: every checksum is valid, only the supply
// invariant can tell.
func EditFirstBalance(t testing.TB, dir string) {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var key []byte
	var acc bankapi.Account
	err = s.Iterate([]byte{state.ModuleBank, 0x01}, func(k, v []byte) error { // the bank's accounts
		if key != nil {
			return nil
		}
		key = append([]byte{}, k...)
		return codec.Unmarshal(v, &acc)
	})
	if err != nil || key == nil {
		t.Fatalf("no account to edit (%v)", err)
	}
	if acc.Balance, err = acc.Balance.Add(token.FromUint64(1)); err != nil {
		t.Fatal(err)
	}
	meta, err := s.Meta()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit([]state.Change{{Key: key, Value: codec.MustMarshal(acc)}}, meta, nil); err != nil {
		t.Fatal(err)
	}
}
