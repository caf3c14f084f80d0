package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/phala-go/phala/internal/damagetest"
)

// runBlocks starts home, lets it commit a few blocks and stops it.
func runBlocks(t *testing.T, home Home) {
	t.Helper()
	n := startTest(t, home, &testApp{})
	if err := n.WaitHeight(testCtx(t, 20*time.Second), 3); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestMissingValidatorKeyRefused(t *testing.T) {
	home := initTestHome(t, `{}`)
	runBlocks(t, home)
	keyFile := filepath.Join(home.ConfigDir(), "priv_validator_key.json")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	n, err := Start(testCtx(t, 20*time.Second), home, &testApp{})
	if err == nil {
		_ = n.Stop()
		t.Fatal("started without its validator key")
	}
	if !errors.Is(err, ErrValidatorKeyMissing) || !strings.Contains(err.Error(), "restore priv_validator_key.json") {
		t.Fatalf("unexpected error: %v", err)
	}
	if isFile(keyFile) {
		t.Fatal("a new validator key was generated")
	}
}

func TestDamagedBlockStoreRefused(t *testing.T) {
	home := initTestHome(t, `{}`)
	runBlocks(t, home)
	damagetest.FlipCometStore(t, filepath.Join(home.DataDir(), "blockstore.db"))

	n, err := Start(testCtx(t, 20*time.Second), home, &testApp{})
	if err == nil {
		_ = n.Stop()
		t.Fatal("started on a damaged block store")
	}
	var ce *CorruptionError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Store != "CometBFT block store" {
		t.Fatalf("unexpected error: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "restore") || strings.Contains(msg, "goroutine") {
		t.Fatalf("message does not say what to do: %v", err)
	}
	results, err := CheckHome(home)
	if err != nil {
		t.Fatal(err)
	}
	if results[1].OK {
		t.Fatalf("check passed a damaged block store: %+v", results)
	}
}

func TestCheckHomeHealthy(t *testing.T) {
	home := initTestHome(t, `{}`)
	runBlocks(t, home)
	results, err := CheckHome(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.OK {
			t.Fatalf("%s: %s", r.Name, r.Detail)
		}
	}
}

// TestDamagedReadStopsNode: damage met while running (a read pebble finds
// corrupt) stops the node, and Stop reports the damage, not a clean stop.
func TestDamagedReadStopsNode(t *testing.T) {
	home := initTestHome(t, `{}`)
	n := startTest(t, home, &testApp{})
	if err := n.WaitHeight(testCtx(t, 20*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	g := n.dbs.dbs[0].DB.(*guardDB)
	_ = g.check(fmt.Errorf("reading: %w", pebble.ErrCorruption))
	select {
	case <-n.Done():
	case <-testCtx(t, 20*time.Second).Done():
		t.Fatal("node kept running on a damaged store")
	}
	err := n.Stop()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "restore") {
		t.Fatalf("Stop = %v, want the damage", err)
	}
}

// TestPebbleFatalEndsCleanly: pebble's fatal hook ends the process with the
// store's name and the remedy, not a panic.
func TestPebbleFatalEndsCleanly(t *testing.T) {
	var got error
	defer func(f func(error)) { exitOnDamage = f }(exitOnDamage)
	exitOnDamage = func(err error) { got = err }
	pebbleLogger{l: discardCmtLogger(), store: storeName("blockstore"), path: "/x/blockstore.db"}.Fatalf("bad table %d", 7)
	if !errors.Is(got, ErrCorrupt) || !strings.Contains(got.Error(), "CometBFT block store /x/blockstore.db is damaged: bad table 7") {
		t.Fatalf("got %v", got)
	}
}

func discardCmtLogger() cmtlog.Logger { return cmtlog.NewNopLogger() }
