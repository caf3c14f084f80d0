package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/gov"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/token"
)

// logBuffer collects what the application logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// upgradeChain is an apptest chain whose gov genesis names Alice the
// unsafe dev admin, opened with opts and logging into logs.
func upgradeChain(t *testing.T, logs *logBuffer, opts ...app.Option) *apptest.Chain {
	t.Helper()
	return apptest.New(t,
		apptest.WithApp(func(chainID, dir string) (*app.App, error) { return app.New(chainID, dir, logs.logger(), opts...) }),
		apptest.WithGenesis(func(g *app.Genesis) {
			admin := apptest.Alice.Addr
			raw, err := json.Marshal(govapi.Genesis{Params: govapi.DefaultParams(), UnsafeDevAdmin: &admin})
			if err != nil {
				t.Fatal(err)
			}
			g.Modules[govapi.Name] = raw
		}))
}

func schedule(c *apptest.Chain, name string, height int64) {
	c.T.Helper()
	c.MustSucceed(c.Tx(apptest.Alice, govapi.MethodUpgrade, govapi.Plan{Name: name, Height: height, Info: "https://example.org/" + name}))
}

func halted(a *app.App) bool {
	select {
	case <-a.Halted():
		return true
	default:
		return false
	}
}

// markerKey is where the test upgrade writes, to show it ran.
var markerKey = []byte("\xfe\x01upgrade-marker")

func markingUpgrade(name string, runs *int) app.Upgrade {
	return app.Upgrade{Name: name, Apply: func(ctx *module.Context) error {
		*runs++
		ctx.Store.Set(markerKey, []byte(fmt.Sprint("applied at ", ctx.Height)))
		return nil
	}}
}

func TestUnknownUpgradeHaltsBeforeItsBlock(t *testing.T) {
	logs := &logBuffer{}
	c := upgradeChain(t, logs)
	c.Block()
	h := c.Height + 4 // scheduled in block h-3; blocks h-2 and h-1 run
	schedule(c, "v2", h)
	for c.Height < h-2 {
		c.Block()
	}
	if halted(c.App) || c.App.HaltReason() != nil {
		t.Fatalf("halted after block %d, before block %d was committed", c.Height, h-1)
	}
	c.Block() // h-1: the last block this binary runs
	if !halted(c.App) {
		t.Fatalf("not halted after committing block %d", c.Height)
	}
	var up *app.UpgradeNeededError
	if err := c.App.HaltReason(); !errors.As(err, &up) || up.Plan.Name != "v2" || up.Plan.Height != h {
		t.Fatalf("halt reason %v", err)
	}
	want := fmt.Sprintf("upgrade v2 scheduled by governance at height %d: this binary does not know it; install the release that does (info: https://example.org/v2) and restart", h)
	if got := c.App.HaltReason().Error(); got != want {
		t.Fatalf("message:\n%s\nwant\n%s", got, want)
	}

	// Block h is neither voted for nor executed.
	pp, err := c.App.ProcessProposal(context.Background(), &abci.ProcessProposalRequest{Height: h})
	if err != nil || pp.Status != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatalf("ProcessProposal of block %d: %v %v, want a rejection", h, pp, err)
	}
	hashBefore := c.AppHash()
	if _, err := c.App.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: h, Time: c.Now}); !errors.As(err, &up) {
		t.Fatalf("FinalizeBlock of block %d: %v, want the halt", h, err)
	}
	if _, err := c.App.Commit(context.Background(), &abci.CommitRequest{}); err == nil {
		t.Fatal("a refused block could be committed")
	}
	if info := c.Info(); info.LastBlockHeight != h-1 || !bytes.Equal(info.LastBlockAppHash, hashBefore) {
		t.Fatalf("after the refusal: height %d, want %d, app hash changed %v", info.LastBlockHeight, h-1, !bytes.Equal(info.LastBlockAppHash, hashBefore))
	}
	if !strings.Contains(logs.String(), "stopping before the upgrade") {
		t.Fatalf("the halt was not logged:\n%s", logs)
	}

	// The same binary, restarted, halts again at once; the store opens
	// (for checks) and is unchanged.
	c.App.Close()
	again, err := app.New(apptest.ChainID, c.Dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	if !halted(again) || again.HaltReason() == nil || again.HaltReason().Error() != want {
		t.Fatalf("restart: halted %v, reason %v", halted(again), again.HaltReason())
	}
	if err := again.CheckStartup(); err != nil {
		t.Fatalf("the halted store fails its checks: %v", err)
	}

	// The release that knows v2 resumes at block h.
	again.Close()
	runs := 0
	upgraded, err := app.New(apptest.ChainID, c.Dir, slog.New(slog.DiscardHandler), app.WithUpgrades(markingUpgrade("v2", &runs)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upgraded.Close() })
	if halted(upgraded) {
		t.Fatal("the release that knows the plan halts")
	}
	c.App = upgraded
	resp := c.Block()
	if runs != 1 || !apptest.HasEvent(resp.Events, app.EventUpgradeApplied) {
		t.Fatalf("block %d: the upgrade ran %d times, events %v", h, runs, resp.Events)
	}
}

func TestKnownUpgradeAppliesAndContinues(t *testing.T) {
	runs := 0
	c := upgradeChain(t, &logBuffer{}, app.WithUpgrades(markingUpgrade("v2", &runs)))
	c.Block()
	h := c.Height + 3
	schedule(c, "v2", h)
	for c.Height < h-1 {
		c.Block()
		if runs != 0 {
			t.Fatalf("the upgrade ran at block %d, before its height %d", c.Height, h)
		}
	}
	// Block h carries a transfer: it runs after the upgrade, on its state.
	resp := c.Block(transfer(t, txOpts{from: apptest.Bob, to: dave.Addr, amount: token.PHA(1), nonce: c.Account(apptest.Bob.Addr).Nonce}))
	if runs != 1 || !apptest.HasEvent(resp.Events, app.EventUpgradeApplied) || resp.TxResults[0].Code != 0 {
		t.Fatalf("block %d: ran %d times, events %v, tx %+v", h, runs, resp.Events, resp.TxResults[0])
	}
	if halted(c.App) {
		t.Fatal("halted after applying a known upgrade")
	}
	if v, _ := c.App.Store().Get(markerKey); string(v) != fmt.Sprint("applied at ", h) {
		t.Fatalf("marker %q", v)
	}
	if _, ok, _ := gov.PlannedUpgrade(c.App.Store()); ok {
		t.Fatal("the plan stays after it was applied")
	}
	for range 3 {
		c.Block()
	}
	if runs != 1 {
		t.Fatalf("the upgrade ran %d times", runs)
	}
}

func TestFailingUpgradeWritesNothing(t *testing.T) {
	c := upgradeChain(t, &logBuffer{}, app.WithUpgrades(app.Upgrade{Name: "v2", Apply: func(ctx *module.Context) error {
		ctx.Store.Set(markerKey, []byte("half"))
		return errors.New("migration refused")
	}}))
	c.Block()
	h := c.Height + 3 // scheduled in the next block, the earliest
	schedule(c, "v2", h)
	c.Block()
	hash := c.AppHash()
	if _, err := c.App.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: h, Time: c.Now}); err == nil || !strings.Contains(err.Error(), "migration refused") {
		t.Fatalf("FinalizeBlock: %v, want the upgrade's failure", err)
	}
	if _, err := c.App.Commit(context.Background(), &abci.CommitRequest{}); err == nil {
		t.Fatal("the failed block could be committed")
	}
	if v, _ := c.App.Store().Get(markerKey); v != nil || !bytes.Equal(c.AppHash(), hash) {
		t.Fatal("a failed upgrade left writes")
	}
}

// TestPendingUpgradeChangesNoAppHash runs the same blocks on a binary that
// knows the plan and one that does not: until the plan's block their app
// hashes agree, and each empty block writes only its block hash.
func TestPendingUpgradeChangesNoAppHash(t *testing.T) {
	runs := 0
	old := upgradeChain(t, &logBuffer{})
	upgraded := upgradeChain(t, &logBuffer{}, app.WithUpgrades(markingUpgrade("v2", &runs)))
	chains := []*apptest.Chain{old, upgraded}
	for _, c := range chains {
		c.Block()
		schedule(c, "v2", c.Height+8)
	}
	for range 6 {
		for _, c := range chains {
			w := c.NothingWritten()
			c.Block()
			c.MustWrite(w)
		}
		if !bytes.Equal(old.AppHash(), upgraded.AppHash()) {
			t.Fatalf("block %d: app hashes differ while the plan is pending", old.Height)
		}
	}
	if !halted(old.App) || halted(upgraded.App) || runs != 0 {
		t.Fatalf("before the plan's block: old halted %v, upgraded halted %v, ran %d", halted(old.App), halted(upgraded.App), runs)
	}
}

func TestUpgradeAnnouncements(t *testing.T) {
	logs := &logBuffer{}
	c := upgradeChain(t, logs)
	c.Block()
	h := c.Height + 1 + 103 // scheduled in the next block
	schedule(c, "v2", h)
	for c.Height < h-12 {
		c.Block()
	}
	for c.Height < h-1 {
		c.Block()
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var left []string
	for _, l := range lines {
		if _, after, ok := strings.Cut(l, "blocks_left="); ok {
			left = append(left, strings.Fields(after)[0])
		}
	}
	// Scheduled with 103 left, then at 100, 10, 5 and 1, then the halt.
	if got := strings.Join(left, ","); got != "103,100,10,5,1" {
		t.Fatalf("announcements at %s; log:\n%s", got, logs)
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "upgrade scheduled") || !strings.Contains(lines[0], "known_to_this_binary=false") {
		t.Fatalf("first announcement: %s", lines[0])
	}

	logs2 := &logBuffer{}
	c2 := upgradeChain(t, logs2)
	c2.Block()
	schedule(c2, "v2", c2.Height+50)
	c2.MustSucceed(c2.Tx(apptest.Alice, govapi.MethodCancelUpgrade, govapi.CancelUpgrade{Name: "v2"}))
	if !strings.Contains(logs2.String(), "upgrade canceled") {
		t.Fatalf("cancel not announced:\n%s", logs2)
	}
}
