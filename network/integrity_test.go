package network

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/node"
	"github.com/phala-go/phala/token"
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
	editFirstBalance(t, home.AppDataDir())

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

// editFirstBalance adds one unit to the first account, committing it with
// the store's own meta, as a hand edit of the database would look.
func editFirstBalance(t *testing.T, dir string) {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	prefix := []byte{state.ModuleBank, 0x01} // the bank's accounts
	var key []byte
	var acc bankapi.Account
	err = s.Iterate(prefix, func(k, v []byte) error {
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
