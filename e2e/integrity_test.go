//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	pebble2 "github.com/cockroachdb/pebble/v2"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
)

// stoppedDevnetHome runs a devnet to a few blocks and kills it, leaving a
// home with chain data and no running process.
func stoppedDevnetHome(t *testing.T, c *cli) string {
	t.Helper()
	d := startDevnet(t, c, "--no-worker")
	c.waitHeight(d.srv, d.url(), 3, 30*time.Second)
	d.srv.kill()
	return d.home
}

// refusedStart runs the devnet on home, which must exit with an error
// naming want and the remedy, and no stack dump.
func refusedStart(t *testing.T, c *cli, home string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failFast)
	defer cancel()
	r := c.runCtx(ctx, c.env, "devnet", "--home", home, "--no-worker")
	if r.err != nil || r.code == 0 {
		t.Fatalf("start was not refused: %v", r)
	}
	t.Logf("refused: %s", r.stderr)
	for _, w := range append(want, "restore") {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("stderr lacks %q: %v", w, r)
		}
	}
	if hasPanic(r.stderr) || strings.Contains(r.stderr, "goroutine") {
		t.Fatalf("stack dump on stderr: %v", r)
	}
}

type checkJSON struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// nodeCheck runs `phala node check`; its exit code must agree with ok.
func nodeCheck(t *testing.T, c *cli, home string) checkJSON {
	t.Helper()
	r := c.run("node", "check", "--home", home, "--output", "json")
	var out checkJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("node check printed no JSON: %v", r)
	}
	if out.OK != (r.code == 0) || r.err != nil {
		t.Fatalf("node check exit code disagrees with its report: %v", r)
	}
	return out
}

func (c checkJSON) failed(name string) string {
	for _, ch := range c.Checks {
		if ch.Name == name && !ch.OK {
			return ch.Detail
		}
	}
	return ""
}

func TestDamagedBlockStoreRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	if out := nodeCheck(t, c, home); !out.OK {
		t.Fatalf("a healthy home failed its check: %+v", out)
	}
	flipTableByte(t, filepath.Join(home, "data", "blockstore.db"))
	refusedStart(t, c, home, "block store", "blockstore.db")
	if d := nodeCheck(t, c, home).failed("block store"); !strings.Contains(d, "damaged") {
		t.Fatalf("node check did not report the block store: %q", d)
	}
}

func TestMissingValidatorKeyRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	keyFile := filepath.Join(home, "config", "priv_validator_key.json")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	refusedStart(t, c, home, "priv_validator_key.json")
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new validator key was generated")
	}
	if d := nodeCheck(t, c, home).failed("validator key"); !strings.Contains(d, "missing") {
		t.Fatalf("node check did not report the key: %q", d)
	}
}

func TestEditedBalanceRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	editFirstBalance(t, filepath.Join(home, "data", "app"))
	refusedStart(t, c, home, "supply", "data/app")
	if d := nodeCheck(t, c, home).failed("application state"); !strings.Contains(d, "supply") {
		t.Fatalf("node check did not report the supply: %q", d)
	}
	text := c.run("node", "check", "--home", home)
	if text.code == 0 || !strings.Contains(text.stdout, "FAILED") {
		t.Fatalf("text check: %v", text)
	}
}

func TestDamagedAppStoreRefused(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	home := stoppedDevnetHome(t, c)
	dir := filepath.Join(home, "data", "app")
	// The application store uses pebble v2; move its data into table files.
	db, err := pebble2.Open(dir, &pebble2.Options{Logger: discardLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	flipTables(t, dir)
	refusedStart(t, c, home, "application state store", "data/app")
	if d := nodeCheck(t, c, home).failed("application state"); !strings.Contains(d, "damaged") {
		t.Fatalf("node check did not report the application store: %q", d)
	}
}

// flipTableByte moves the store's data into a table file (a killed node's
// last writes are only in pebble's log) and flips one byte in its middle.
func flipTableByte(t *testing.T, dir string) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: discardLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Compact([]byte{0}, []byte{0xff, 0xff, 0xff}, true); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	flipTables(t, dir)
}

// flipTables flips one byte in the middle of every table file in dir.
func flipTables(t *testing.T, dir string) {
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

type discardLogger struct{}

func (discardLogger) Infof(string, ...any)  {}
func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Fatalf(string, ...any) {}

// editFirstBalance adds one unit to the first account and commits it with
// the store's own meta, as a hand edit of the database would look.
func editFirstBalance(t *testing.T, dir string) {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var key []byte
	var acc bankapi.Account
	err = s.Iterate([]byte{state.ModuleBank, 0x01}, func(k, v []byte) error {
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
