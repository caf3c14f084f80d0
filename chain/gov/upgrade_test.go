package gov_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/gov"
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
)

func TestCheckPlan(t *testing.T) {
	ok := govapi.Plan{Name: "v2.0-rc1", Height: 100, Info: "https://example.org/releases/v2 sha256:ab12"}
	for _, tc := range []struct {
		name string
		edit func(*govapi.Plan)
		ok   bool
	}{
		{"valid", func(*govapi.Plan) {}, true},
		{"longest name", func(p *govapi.Plan) { p.Name = strings.Repeat("n", govapi.MaxPlanName) }, true},
		{"longest info", func(p *govapi.Plan) { p.Info = strings.Repeat("i", govapi.MaxPlanInfo) }, true},
		{"no info", func(p *govapi.Plan) { p.Info = "" }, true},
		{"unicode info", func(p *govapi.Plan) { p.Info = "version nouvelle — téléchargez-la" }, true},
		{"empty name", func(p *govapi.Plan) { p.Name = "" }, false},
		{"name too long", func(p *govapi.Plan) { p.Name = strings.Repeat("n", govapi.MaxPlanName+1) }, false},
		{"space in name", func(p *govapi.Plan) { p.Name = "v 2" }, false},
		{"non-ASCII name", func(p *govapi.Plan) { p.Name = "vé2" }, false},
		{"control byte in name", func(p *govapi.Plan) { p.Name = "v2\n" }, false},
		{"info too long", func(p *govapi.Plan) { p.Info = strings.Repeat("i", govapi.MaxPlanInfo+1) }, false},
		{"terminal escape in info", func(p *govapi.Plan) { p.Info = "\x1b[2Jrelease" }, false},
		{"newline in info", func(p *govapi.Plan) { p.Info = "a\nb" }, false},
		{"info not UTF-8", func(p *govapi.Plan) { p.Info = "\xff\xfe" }, false},
		{"zero height", func(p *govapi.Plan) { p.Height = 0 }, false},
		{"negative height", func(p *govapi.Plan) { p.Height = -5 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			err := gov.CheckPlan(p)
			if tc.ok != (err == nil) {
				t.Fatalf("CheckPlan: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, govapi.ErrUpgrade) {
				t.Fatalf("refusal %v is not ErrUpgrade", err)
			}
		})
	}
}

// memState is an empty committed state for handlers run directly.
type memState struct{}

func (memState) Get([]byte) ([]byte, error) { return nil, nil }

func method(t testing.TB, name string) module.Method {
	t.Helper()
	for _, m := range (gov.Module{}).Methods() {
		if m.Name == name {
			if !m.Authority {
				t.Fatalf("%s is not an Authority method", name)
			}
			return m
		}
	}
	t.Fatalf("gov has no method %s", name)
	return module.Method{}
}

// run calls a handler as sender at height on s, on a branch kept only on
// success, as the application does.
func run(t testing.TB, s *state.Overlay, sender address.Address, height int64, name string, body []byte) (*module.Context, error) {
	t.Helper()
	ctx := &module.Context{Block: module.Block{Height: height}, Store: s.Branch(), Sender: sender}
	if err := method(t, name).Handle(ctx, body); err != nil {
		return ctx, err
	}
	ctx.Store.Merge()
	return ctx, nil
}

func planBody(name string, height int64) []byte {
	return codec.MustMarshal(govapi.Plan{Name: name, Height: height, Info: "release " + name})
}

func TestScheduleUpgradeRefusals(t *testing.T) {
	stranger := apptest.Bob.Addr
	for _, tc := range []struct {
		name   string
		sender address.Address
		body   []byte
		want   error
	}{
		{"not the authority", stranger, planBody("v2", 20), govapi.ErrUnauthorized},
		{"this block", authority.Gov, planBody("v2", 10), govapi.ErrUpgrade},
		{"the next block: no block to announce it", authority.Gov, planBody("v2", 11), govapi.ErrUpgrade},
		{"in the past", authority.Gov, planBody("v2", 3), govapi.ErrUpgrade},
		{"bad name", authority.Gov, planBody("v 2", 20), govapi.ErrUpgrade},
		{"not a plan", authority.Gov, []byte{0x01}, govapi.ErrInvalid},
		{"trailing bytes", authority.Gov, append(planBody("v2", 20), 0), govapi.ErrInvalid},
		{"not canonical", authority.Gov, []byte{0x83, 0x62, 'v', '2', 0x18, 0x14, 0x60}, govapi.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := state.NewOverlay(memState{})
			ctx, err := run(t, s, tc.sender, 10, govapi.MethodUpgrade, tc.body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !s.Empty() || len(ctx.Events()) != 0 {
				t.Fatal("a refused plan wrote or emitted something")
			}
		})
	}
}

func TestScheduleReplaceCancel(t *testing.T) {
	s := state.NewOverlay(memState{})
	if _, err := run(t, s, authority.Gov, 10, govapi.MethodUpgrade, planBody("v2", 12)); err != nil {
		t.Fatalf("the earliest height (two blocks on) is refused: %v", err)
	}
	ctx, err := run(t, s, authority.Gov, 11, govapi.MethodUpgrade, planBody("v3", 50))
	if err != nil {
		t.Fatal(err)
	}
	if ev := ctx.Events(); len(ev) != 1 || ev[0].Type != govapi.EventUpgradeSchedule || !hasAttr(ev[0], "replaces", "v2") {
		t.Fatalf("replacing event: %+v", ev)
	}
	p, ok, err := gov.PlannedUpgrade(s)
	if err != nil || !ok || p.Name != "v3" || p.Height != 50 {
		t.Fatalf("planned %+v %v %v, want v3 at 50", p, ok, err)
	}
	cancel := func(name string) (*module.Context, error) {
		return run(t, s, authority.Gov, 12, govapi.MethodCancelUpgrade, codec.MustMarshal(govapi.CancelUpgrade{Name: name}))
	}
	if _, err := cancel("v2"); !errors.Is(err, govapi.ErrUpgrade) {
		t.Fatalf("cancelling the replaced plan: %v, want ErrUpgrade", err)
	}
	if _, err := run(t, s, apptest.Bob.Addr, 12, govapi.MethodCancelUpgrade, codec.MustMarshal(govapi.CancelUpgrade{Name: "v3"})); !errors.Is(err, govapi.ErrUnauthorized) {
		t.Fatalf("a stranger's cancel: %v, want ErrUnauthorized", err)
	}
	ctx, err = cancel("v3")
	if err != nil {
		t.Fatal(err)
	}
	if ev := ctx.Events(); len(ev) != 1 || ev[0].Type != govapi.EventUpgradeCanceled || !hasAttr(ev[0], "height", "50") {
		t.Fatalf("cancel event: %+v", ev)
	}
	if _, ok, _ := gov.PlannedUpgrade(s); ok {
		t.Fatal("plan still there after cancel")
	}
	if _, err := cancel("v3"); !errors.Is(err, govapi.ErrUpgrade) {
		t.Fatalf("cancelling with no plan: %v, want ErrUpgrade", err)
	}
}

func hasAttr(ev module.Event, key, value string) bool {
	for _, a := range ev.Attrs {
		if a.Key == key && a.Value == value {
			return true
		}
	}
	return false
}

func TestPlannedUpgradeCorrupt(t *testing.T) {
	s := state.NewOverlay(memState{})
	s.Set(govapi.UpgradeKey.Key(), []byte{0xff})
	if _, _, err := gov.PlannedUpgrade(s); !errors.Is(err, govapi.ErrCorruptState) {
		t.Fatalf("corrupt plan: %v, want ErrCorruptState", err)
	}
}

// withDevAdmin gives the apptest chain gov's unsafe dev admin Alice.
func withDevAdmin() apptest.Option {
	return apptest.WithGenesis(func(g *app.Genesis) {
		admin := apptest.Alice.Addr
		raw, err := json.Marshal(govapi.Genesis{Params: govapi.DefaultParams(), UnsafeDevAdmin: &admin})
		if err != nil {
			panic(err)
		}
		g.Modules[govapi.Name] = raw
	})
}

func TestUpgradeThroughTransactions(t *testing.T) {
	c := apptest.New(t, withDevAdmin())
	c.Block()
	var info govapi.UpgradeInfo
	if err := c.Query(govapi.QueryUpgrade, nil, &info); err != nil || info.Planned != nil {
		t.Fatalf("before any plan: %+v %v", info, err)
	}
	c.MustRefuse(c.Tx(apptest.Bob, govapi.MethodUpgrade, govapi.Plan{Name: "v2", Height: 100}), govapi.ErrUnauthorized)
	c.MustRefuse(c.Tx(apptest.Alice, govapi.MethodUpgrade, govapi.Plan{Name: "v2", Height: c.Height + 1}), govapi.ErrUpgrade)
	c.MustRefuse(c.Tx(apptest.Alice, govapi.MethodUpgrade, govapi.Plan{Name: "bad name", Height: 100}), govapi.ErrUpgrade)
	resp := c.Block(c.Tx(apptest.Alice, govapi.MethodUpgrade, govapi.Plan{Name: "v2", Height: 100, Info: "get v2"}))
	if r := resp.TxResults[0]; r.Code != 0 || !apptest.HasEvent(r.Events, govapi.EventUpgradeSchedule) {
		t.Fatalf("scheduling: %+v", r)
	}
	if err := c.Query(govapi.QueryUpgrade, nil, &info); err != nil || info.Planned == nil || info.Planned.Name != "v2" || info.Planned.Height != 100 || info.Planned.Info != "get v2" {
		t.Fatalf("planned: %+v %v", info, err)
	}
	c.MustRefuse(c.Tx(apptest.Alice, govapi.MethodCancelUpgrade, govapi.CancelUpgrade{Name: "v1"}), govapi.ErrUpgrade)
	resp = c.Block(c.Tx(apptest.Alice, govapi.MethodCancelUpgrade, govapi.CancelUpgrade{Name: "v2"}))
	if r := resp.TxResults[0]; r.Code != 0 || !apptest.HasEvent(r.Events, govapi.EventUpgradeCanceled) {
		t.Fatalf("cancelling: %+v", r)
	}
	if err := c.Query(govapi.QueryUpgrade, nil, &info); err != nil || info.Planned != nil {
		t.Fatalf("after cancel: %+v %v", info, err)
	}
}

// FuzzUpgradeBodies feeds arbitrary bodies to both handlers: they must
// refuse or store a plan that passes CheckPlan at least two blocks ahead,
// and never panic.
func FuzzUpgradeBodies(f *testing.F) {
	f.Add(planBody("v2", 20), false)
	f.Add(codec.MustMarshal(govapi.CancelUpgrade{Name: "v2"}), true)
	f.Add([]byte{0x83, 0x60, 0x0a, 0x60}, false)
	f.Fuzz(func(t *testing.T, body []byte, cancel bool) {
		s := state.NewOverlay(memState{})
		if _, err := run(t, s, authority.Gov, 10, govapi.MethodUpgrade, planBody("v1", 30)); err != nil {
			t.Fatal(err)
		}
		name := govapi.MethodUpgrade
		if cancel {
			name = govapi.MethodCancelUpgrade
		}
		if _, err := run(t, s, authority.Gov, 10, name, body); err != nil {
			return
		}
		p, ok, err := gov.PlannedUpgrade(s)
		switch {
		case err != nil:
			t.Fatal(err)
		case cancel && ok:
			t.Fatal("a cancel succeeded and left a plan")
		case !cancel && (!ok || gov.CheckPlan(p) != nil || p.Height < 12):
			t.Fatalf("stored plan %+v", p)
		}
	})
}
