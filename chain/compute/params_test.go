package compute_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

func TestSetParams(t *testing.T) {
	n := newNet(t)
	change := apptest.Change(t, "answer_window", 20*time.Second, "economy.budget_per_day", token.PHA(500_000))
	if err := n.txErr(apptest.Alice, computeapi.MethodSetParams, change); err != nil {
		t.Fatal(err)
	}
	var got computeapi.Params
	if err := n.Query(computeapi.QueryParams, nil, &got); err != nil {
		t.Fatal(err)
	}
	want := n.params
	want.AnswerWindow, want.Economy.BudgetPerDay = 20*time.Second, token.PHA(500_000)
	if got != want {
		t.Fatalf("params after the change: %+v, want %+v", got, want)
	}
	if pub := n.Published(computeapi.TopicParams); len(pub) != 1 {
		t.Fatalf("%d params messages for enclaves, want 1", len(pub))
	}
	n.params = got

	for _, c := range []struct {
		name string
		from apptest.Account
		body any
		want error
	}{
		{"not the authority", apptest.Bob, apptest.Change(t, "answer_window", 30*time.Second), computeapi.ErrUnauthorized},
		{"settle_every", apptest.Alice, apptest.Change(t, "settle_every", 20*time.Second), computeapi.ErrParams},
		{"settle_every among others", apptest.Alice, apptest.Change(t, "answer_window", 30*time.Second, "settle_every", time.Minute), computeapi.ErrParams},
		{"unknown path", apptest.Alice, apptest.Change(t, "economy.nonsense", 1), computeapi.ErrParams},
		{"a group, not a param", apptest.Alice, apptest.Change(t, "economy", 1), computeapi.ErrParams},
		{"wrong type", apptest.Alice, apptest.Change(t, "answer_window", "soon"), computeapi.ErrParams},
		{"no change", apptest.Alice, module.ParamChange{}, computeapi.ErrParams},
		{"answer_window zero", apptest.Alice, apptest.Change(t, "answer_window", 0), computeapi.ErrParams},
		{"no challenge a block", apptest.Alice, apptest.Change(t, "max_challenges_per_block", 0), computeapi.ErrParams},
		{"slash above the stake", apptest.Alice, apptest.Change(t, "slash_share", fixed.Int(2)), computeapi.ErrParams},
		{"treasury above the reward", apptest.Alice, apptest.Change(t, "economy.treasury_share", fixed.Int(2)), computeapi.ErrParams},
		{"growth out of range", apptest.Alice, apptest.Change(t, "economy.growth_per_hour", fixed.Int(2)), computeapi.ErrParams},
		{"cool-down shorter than a period", apptest.Alice, apptest.Change(t, "economy.cool_down", time.Second), computeapi.ErrParams},
		{"emission beyond the pool", apptest.Alice, apptest.Change(t, "economy.budget_per_day", token.PHA(2_000_000)), computeapi.ErrParams},
		{"malformed", apptest.Alice, []byte{0x80}, computeapi.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) { n.mustRefuseTx(c.from, computeapi.MethodSetParams, c.body, c.want) })
	}
	err := n.txErr(apptest.Alice, computeapi.MethodSetParams, apptest.Change(t, "settle_every", 20*time.Second))
	if err == nil || !strings.Contains(err.Error(), "renumber") {
		t.Fatalf("settle_every refused with %v, want the reason", err)
	}
}

func TestGenesisRefusesBadParams(t *testing.T) {
	a, err := app.NewWithModules(apptest.ChainID, t.TempDir(), slog.Default(), app.Modules())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	g := apptest.Genesis(t, true)
	p := computeapi.DefaultParams()
	p.Economy.BudgetPerDay = token.PHA(100_000_000) // empties 700M PHA in a week
	g.Modules[computeapi.Name], _ = json.Marshal(computeapi.Genesis{Params: p})
	if err := initChain(a, apptest.GenesisJSON(t, g)); err == nil {
		t.Fatal("a genesis whose schedule overdraws the reward pool was accepted")
	}
}

func TestQueries(t *testing.T) {
	n := newNet(t)
	var em computeapi.EmissionInfo
	if err := n.Query(computeapi.QueryEmission, nil, &em); err != nil {
		t.Fatal(err)
	}
	if em.Start != 0 || !em.Emitted.IsZero() {
		t.Fatalf("emission before any session: %+v", em)
	}
	w := n.worker(score)
	if err := n.start(w, minStake); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		n.Block()
	}
	if err := n.Query(computeapi.QueryEmission, nil, &em); err != nil {
		t.Fatal(err)
	}
	total := must[token.Amount](t)(tokenomics.TotalEmission(n.params.Economy))
	var spans token.Amount
	for i, s := range em.Spans {
		spans = must[token.Amount](t)(spans.Add(s.Budget))
		if i > 0 && s.From != em.Spans[i-1].To {
			t.Fatalf("spans not contiguous: %+v", em.Spans)
		}
	}
	if em.Total != total || spans.Cmp(total) > 0 || em.Spans[0].Budget != token.PHA(720_000*180) || em.PerDayNow != token.PHA(720_000) {
		t.Fatalf("emission %+v, want total %s", em, total)
	}
	if want := must[token.Amount](t)(tokenomics.Emitted(n.params.Economy, time.Duration(em.Now-em.Start))); em.Emitted != want || em.Emitted.IsZero() {
		t.Fatalf("emitted %s after %s, want %s", em.Emitted, time.Duration(em.Now-em.Start), want)
	}

	var all, ofPool, otherPool []computeapi.Session
	if err := n.Query(computeapi.QuerySessions, nil, &all); err != nil {
		t.Fatal(err)
	}
	if err := n.Query(computeapi.QuerySessions, computeapi.SessionIDBytes(1), &ofPool); err != nil {
		t.Fatal(err)
	}
	if err := n.Query(computeapi.QuerySessions, computeapi.SessionIDBytes(2), &otherPool); err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || len(ofPool) != 1 || len(otherPool) != 0 || all[0].ID != 1 {
		t.Fatalf("sessions: all %d, pool 1 %d, pool 2 %d", len(all), len(ofPool), len(otherPool))
	}
	var one computeapi.Session
	if err := n.Query(computeapi.QuerySession, computeapi.SessionIDBytes(1), &one); err != nil || one.Score != score {
		t.Fatalf("session 1: %+v %v", one, err)
	}
	if err := n.Query(computeapi.QuerySession, computeapi.SessionIDBytes(9), &one); err == nil {
		t.Fatal("an unknown session answered")
	}
	if err := n.Query(computeapi.QuerySession, []byte{1}, &one); err == nil {
		t.Fatal("a malformed session id answered")
	}
	if err := n.Query(computeapi.QueryWorker, apptest.NewTEENode(t).Pub(), &computeapi.WorkerInfo{}); err == nil {
		t.Fatal("a worker with no score answered")
	}
	pool := n.rewardPool()
	if pool.Balance != n.balance(bankapi.RewardPool) || pool.Computing != 1 || pool.NextEnds != em.Start+int64(n.params.SettleEvery) {
		t.Fatalf("reward pool %+v", pool)
	}
}

// TestPoolNeverOverdrawn: gatekeepers that claim the whole budget of
// every period they settle, over a century of block time (decades apart,
// periods skipped), never take more than the schedule emits, which is
// never more than the pool holds; the supply never changes (apptest checks
// it after every block), and a claim of one unit more is always refused.
func TestPoolNeverOverdrawn(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("", func(t *testing.T) { poolNeverOverdrawn(t, seed) })
	}
}

func poolNeverOverdrawn(t *testing.T, seed uint64) {
	forever := int64(200 * 365 * 24 * 3600)
	n := newNetWith(t, []func(*computeapi.Params){func(p *computeapi.Params) {
		p.SettleEvery = 24 * time.Hour
		p.Economy.CoolDown = 24 * time.Hour
		p.AnswerWindow = time.Hour
	}}, func(g *app.Genesis) {
		r := registryapi.DefaultGenesis(true)
		r.Params.ReattestSeconds = forever
		g.Modules[registryapi.Name], _ = json.Marshal(r)
	})
	w := n.worker(score)
	if err := n.start(w, minStake); err != nil {
		t.Fatal(err)
	}
	id := n.session(w).ID
	pool0 := n.balance(bankapi.RewardPool)
	total := must[token.Amount](t)(tokenomics.TotalEmission(n.params.Economy))
	if total.Cmp(pool0) > 0 {
		t.Fatalf("the schedule emits %s, the pool holds %s", total, pool0)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	var paid token.Amount
	period := uint64(0)
	for range 40 {
		period += 1 + rng.Uint64N(2_000) // up to five and a half years ahead
		n.untilPeriodEnds(period)
		budget := n.budget(period)
		claim := func(r token.Amount) computeapi.Settlement {
			return computeapi.Settlement{Period: period, Parts: 1, Workers: []computeapi.WorkerSettlement{{Session: id, State: computeapi.StateComputing, V: fixed.Int(5000), Reward: r}}}
		}
		n.mustRefuse(n.gk, computeapi.TopicSettlement, claim(must[token.Amount](t)(budget.Add(token.FromUint64(1)))), computeapi.ErrOverBudget)
		before := n.balance(bankapi.RewardPool)
		n.mustAccept(n.gk, computeapi.TopicSettlement, claim(budget))
		if got := n.balance(bankapi.RewardPool); got != must[token.Amount](t)(before.Sub(budget)) {
			t.Fatalf("period %d: the pool went from %s to %s paying %s", period, before, got, budget)
		}
		paid = must[token.Amount](t)(paid.Add(budget))
	}
	emitted := must[token.Amount](t)(tokenomics.Emitted(n.params.Economy, time.Duration(period)*n.params.SettleEvery))
	if paid.Cmp(emitted) > 0 || emitted.Cmp(total) > 0 {
		t.Fatalf("paid %s, the schedule emitted %s of %s", paid, emitted, total)
	}
	if got := n.balance(bankapi.RewardPool); got != must[token.Amount](t)(pool0.Sub(paid)) {
		t.Fatalf("pool %s after paying %s out of %s", got, paid, pool0)
	}
}

func initChain(a *app.App, genesis []byte) error {
	_, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: apptest.ChainID, Time: time.Unix(1, 0), AppStateBytes: genesis})
	return err
}
