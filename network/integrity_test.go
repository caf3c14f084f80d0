package network

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/internal/damagetest"
	"github.com/phala-go/phala/node"
)

// TestEditedBalanceRefused: a balance changed outside consensus, written as
// a valid account, breaks the supply invariant; the node refuses to start
// on it instead of serving (and building on) the edited state.
func TestEditedBalanceRefused(t *testing.T) {
	home := node.Home(filepath.Join(t.TempDir(), "devnet"))
	fast := node.Timing{TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 50 * time.Millisecond, CreateEmptyBlocks: true}
	if err := CreateDevnet(home, DevnetOptions{Ports: freeDevPorts(t), Timing: fast}); err != nil {
		t.Fatal(err)
	}
	runDevnetBlocks(t, home)
	damagetest.EditFirstBalance(t, home.AppDataDir())

	v, err := Start(t.Context(), home, quietLog())
	if err == nil {
		_ = v.Stop()
		t.Fatal("started on an edited balance")
	}
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "supply") || !strings.Contains(err.Error(), "restore") {
		t.Fatalf("unexpected error: %v", err)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func runDevnetBlocks(t *testing.T, home node.Home) {
	t.Helper()
	v, err := Start(t.Context(), home, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Stop()
	if err := v.Node.WaitHeight(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if err := v.Stop(); err != nil {
		t.Fatal(err)
	}
}
