// Package damagetest damages stores the way disks and hand edits do, for
// the tests of the checks that must find it. Test support only: no program
// links it (internal/archtest).
package damagetest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble"
	pebble2 "github.com/cockroachdb/pebble/v2"
	"github.com/cosmos/iavl/fastnode"

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
// store in dir, as a hand edit of the database would: it rewrites the
// value IAVL's fast index holds for the key (what reads return), leaving
// the tree and every checksum valid; only the supply invariant can tell.
func EditFirstBalance(t testing.TB, dir string) {
	t.Helper()
	db, err := pebble2.Open(dir, &pebble2.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts := append([]byte{store.TreePrefix, 'f'}, state.ModuleBank, 0x01) // the bank's accounts in the fast index
	it, err := db.NewIter(&pebble2.IterOptions{LowerBound: accounts, UpperBound: append(bytes.Clone(accounts), 0xff)})
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		it.Close()
		t.Fatal("no account to edit")
	}
	rawKey, rawValue := bytes.Clone(it.Key()), bytes.Clone(it.Value())
	it.Close()
	node, err := fastnode.DeserializeNode(rawKey[2:], rawValue)
	if err != nil {
		t.Fatal(err)
	}
	var acc bankapi.Account
	if err := codec.Unmarshal(node.GetValue(), &acc); err != nil {
		t.Fatal(err)
	}
	if acc.Balance, err = acc.Balance.Add(token.FromUint64(1)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fastnode.NewNode(rawKey[2:], codec.MustMarshal(acc), node.GetVersionLastUpdatedAt()).WriteBytes(&buf); err != nil {
		t.Fatal(err)
	}
	if err := db.Set(rawKey, buf.Bytes(), pebble2.Sync); err != nil {
		t.Fatal(err)
	}
}
