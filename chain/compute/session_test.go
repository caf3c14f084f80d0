package compute_test

import (
	"crypto/ed25519"

	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// score 2500 needs K·sqrt(2500) = 50·50 = 2500 PHA.
const score = 2500

var minStake = token.PHA(2500)

func TestBenchmarkRecordsScore(t *testing.T) {
	n := newNet(t)
	w := n.Register(apptest.Carol, registryapi.RoleWorker)
	n.mustAccept(w, computeapi.TopicBenchmark, computeapi.Benchmark{Score: score})
	info := n.workerInfo(w)
	if info.Worker.Score != score || info.Worker.ScoreHeight != n.Height || info.State != computeapi.StateReady || info.Session != nil {
		t.Fatalf("worker after its benchmark: %+v", info)
	}
	n.mustAccept(w, computeapi.TopicBenchmark, computeapi.Benchmark{Score: 3000})
	if got := n.workerInfo(w).Worker.Score; got != 3000 {
		t.Fatalf("score %d after a new benchmark, want 3000", got)
	}
	for _, c := range []struct {
		name    string
		from    apptest.TEENode
		payload any
		want    error
	}{
		{"score zero", w, computeapi.Benchmark{Score: 0}, computeapi.ErrInvalid},
		{"score above the maximum", w, computeapi.Benchmark{Score: computeapi.MaxScore + 1}, computeapi.ErrInvalid},
		{"not CBOR", w, []byte{0xff, 0x00}, computeapi.ErrInvalid},
		{"not canonical", w, []byte{0x81, 0x19, 0x00, 0x05}, computeapi.ErrInvalid},
		{"from a gatekeeper", n.gk, computeapi.Benchmark{Score: score}, computeapi.ErrNotWorker},
	} {
		t.Run(c.name, func(t *testing.T) { n.mustRefuse(c.from, computeapi.TopicBenchmark, c.payload, c.want) })
	}
}

func TestStartStopRelease(t *testing.T) {
	n := newNet(t)
	w := n.worker(score)
	poolBefore, stakeBefore := n.balance(poolAccount), n.balance(computeapi.StakeAccount)
	if err := n.start(w, minStake); err != nil {
		t.Fatal(err)
	}
	startHeight := n.Height
	sess := n.session(w)
	wantV := must[fixed.Q](t)(tokenomics.InitialValue(n.params.Economy, minStake, score, tokenomics.ConfidenceSimulated))
	if sess.State != computeapi.StateComputing || sess.Stake != minStake || sess.Score != score || sess.Pool != 1 ||
		sess.Account != poolAccount || sess.Confidence != tokenomics.ConfidenceSimulated || sess.InitialV != wantV || sess.V != wantV ||
		sess.StartHeight != startHeight || sess.ID != 1 {
		t.Fatalf("session %+v, want computing with stake %s, V %s", sess, minStake, wantV)
	}
	if got := n.balance(poolAccount); got != must[token.Amount](t)(poolBefore.Sub(minStake)) {
		t.Fatalf("pool account %s after staking %s from %s", got, minStake, poolBefore)
	}
	if got := n.balance(computeapi.StakeAccount); got != must[token.Amount](t)(stakeBefore.Add(minStake)) {
		t.Fatalf("stake account %s", got)
	}
	started := n.Published(computeapi.TopicSession)
	var ev computeapi.SessionEvent
	if len(started) != 1 || codec.UnmarshalCanonical(started[0], &ev) != nil || ev.Kind != computeapi.KindStarted || ev.Session.ID != sess.ID {
		t.Fatalf("session messages %x, want one started", started)
	}
	n.Block()
	if cs := n.challenges(); len(cs) != 1 || cs[0].Computing != 1 || cs[0].Height != n.Height {
		t.Fatalf("challenges of a block with one session: %+v", cs)
	}

	n.mustRefuseTx(apptest.Bob, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}, errNotOwner)
	if err := n.txErr(apptest.Carol, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}); err != nil {
		t.Fatal(err)
	}
	sess = n.session(w)
	if sess.State != computeapi.StateCoolingDown || sess.StopHeight != n.Height || sess.CoolDownEnds != n.Now.Add(n.params.Economy.CoolDown).UnixNano() {
		t.Fatalf("stopped session %+v", sess)
	}
	if len(n.pool.stopped) != 1 {
		t.Fatalf("pools told of %d stops, want 1", len(n.pool.stopped))
	}
	n.Block()
	if cs := n.challenges(); len(cs) != 0 {
		t.Fatalf("a block with no one computing challenged: %+v", cs)
	}
	n.mustRefuseTx(apptest.Carol, computeapi.MethodStop, computeapi.Stop{Worker: w.Pub()}, computeapi.ErrNotComputing)
	if err := n.start(w, minStake); !errors.Is(err, computeapi.ErrBusy) {
		t.Fatalf("start while cooling down: %v, want %v", err, computeapi.ErrBusy)
	}

	n.Now = time.Unix(0, sess.CoolDownEnds)
	n.Block()
	if got := n.balance(poolAccount); got != poolBefore {
		t.Fatalf("pool account %s after the release, want %s back", got, poolBefore)
	}
	info := n.workerInfo(w)
	if info.State != computeapi.StateReady || !info.Session.Released || len(n.pool.released) != 1 || n.pool.released[0] != minStake {
		t.Fatalf("after the cool-down: %+v, pools told %v", info, n.pool.released)
	}
	if err := n.start(w, minStake); err != nil {
		t.Fatalf("start again after the release: %v", err)
	}
	if got := n.session(w).ID; got != 2 {
		t.Fatalf("second session id %d, want 2", got)
	}
}

func TestStartRefusals(t *testing.T) {
	n := newNet(t)
	computing := n.worker(score)
	if err := n.start(computing, minStake); err != nil {
		t.Fatal(err)
	}
	ready := n.worker(score)
	unscored := n.Register(apptest.Carol, registryapi.RoleWorker)
	low := n.worker(n.params.Economy.MinScore - 1)
	bobs := n.Register(apptest.Bob, registryapi.RoleWorker)
	n.mustAccept(bobs, computeapi.TopicBenchmark, computeapi.Benchmark{Score: score})
	stranger := apptest.NewTEENode(t)

	below := must[token.Amount](t)(minStake.Sub(token.FromUint64(1)))
	for _, c := range []struct {
		name string
		from apptest.Account
		body any
		want error
	}{
		{"stake below the minimum", apptest.Carol, computeapi.Start{Worker: ready.Pub(), Stake: below}, computeapi.ErrStakeTooLow},
		{"zero stake", apptest.Carol, computeapi.Start{Worker: ready.Pub()}, computeapi.ErrStakeTooLow},
		{"stake beyond v_max", apptest.Carol, computeapi.Start{Worker: ready.Pub(), Stake: token.PHA(30_000)}, computeapi.ErrTooMuchStake},
		{"no score", apptest.Carol, computeapi.Start{Worker: unscored.Pub(), Stake: minStake}, computeapi.ErrNoScore},
		{"score below the minimum", apptest.Carol, computeapi.Start{Worker: low.Pub(), Stake: minStake}, computeapi.ErrNoScore},
		{"already computing", apptest.Carol, computeapi.Start{Worker: computing.Pub(), Stake: minStake}, computeapi.ErrBusy},
		{"unregistered worker", apptest.Carol, computeapi.Start{Worker: stranger.Pub(), Stake: minStake}, computeapi.ErrUnknownWorker},
		{"another operator's worker", apptest.Carol, computeapi.Start{Worker: bobs.Pub(), Stake: minStake}, errNotOwner},
		{"not the pool's owner", apptest.Bob, computeapi.Start{Worker: ready.Pub(), Stake: minStake}, errNotOwner},
		{"short identity", apptest.Carol, computeapi.Start{Worker: ready.Pub()[:31], Stake: minStake}, computeapi.ErrInvalid},
		{"malformed body", apptest.Carol, []byte{0x01}, computeapi.ErrInvalid},
		{"stop a ready worker", apptest.Carol, computeapi.Stop{Worker: ready.Pub()}, computeapi.ErrNotComputing},
	} {
		t.Run(c.name, func(t *testing.T) {
			method := computeapi.MethodStart
			if _, ok := c.body.(computeapi.Stop); ok {
				method = computeapi.MethodStop
			}
			n.mustRefuseTx(c.from, method, c.body, c.want)
		})
	}
}

func TestStartWithoutPools(t *testing.T) {
	h := apptest.New(t, apptest.WithApp(func(chainID, dir string) (*app.App, error) {
		return app.NewWithModules(chainID, dir, slog.Default(), app.ModulesWith(nil))
	}))
	h.Block()
	w := h.Register(apptest.Carol, registryapi.RoleWorker)
	raw := h.Tx(apptest.Carol, computeapi.MethodStart, computeapi.Start{Worker: w.Pub(), Stake: minStake})
	h.MustRefuseCharged(raw, computeapi.ErrNoPools)
}

func TestDeactivationStopsAtOnce(t *testing.T) {
	t.Run("attestation lapsed: stopped, nothing slashed", func(t *testing.T) {
		n := newNet(t)
		w := n.worker(score)
		if err := n.start(w, minStake); err != nil {
			t.Fatal(err)
		}
		n.Now = n.Now.Add(time.Duration(registryapi.DefaultParams().ReattestSeconds) * time.Second)
		n.Block()
		sess := n.session(w)
		if n.Node(w).Active || sess.State != computeapi.StateCoolingDown || !sess.Slashed.IsZero() || sess.StopHeight != n.Height {
			t.Fatalf("after the attestation lapsed: node active %v, session %+v", n.Node(w).Active, sess)
		}
		if len(n.pool.stopped) != 1 {
			t.Fatalf("pools told of %d stops", len(n.pool.stopped))
		}
	})
	t.Run("the policy no longer accepts it: stopped and slashed", func(t *testing.T) {
		n := newNet(t)
		w := n.worker(score)
		if err := n.start(w, minStake); err != nil {
			t.Fatal(err)
		}
		treasury := n.balance(bankapi.Treasury)
		n.MustSucceed(n.Tx(apptest.Alice, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: attest.Policy{}}))
		sess := n.session(w)
		slash := tokenomics.Part(minStake, n.params.SlashShare)
		if sess.State != computeapi.StateCoolingDown || sess.Slashed != slash || slash != token.PHA(250) {
			t.Fatalf("after the policy change: %+v, want %s slashed", sess, slash)
		}
		// The treasury got the slash and the fee of the policy change.
		if got, want := n.balance(bankapi.Treasury), must[token.Amount](t)(treasury.Add(must[token.Amount](t)(slash.Add(token.PHA(1))))); got != want {
			t.Fatalf("treasury %s, want %s", got, want)
		}
		if got := n.rewardPool().Slashed; got != slash {
			t.Fatalf("slashed total %s, want %s", got, slash)
		}
		pool := n.balance(poolAccount)
		n.Now = time.Unix(0, sess.CoolDownEnds)
		n.Block()
		back := must[token.Amount](t)(minStake.Sub(slash))
		if got := n.balance(poolAccount); got != must[token.Amount](t)(pool.Add(back)) {
			t.Fatalf("pool account %s after the release, want %s more than %s", got, back, pool)
		}
		if len(n.pool.released) != 1 || n.pool.released[0] != back || n.pool.slashed[0] != slash {
			t.Fatalf("pools told released %v slashed %v", n.pool.released, n.pool.slashed)
		}
	})
}

func TestDiscrepancySlashes(t *testing.T) {
	n := newNet(t)
	w := n.worker(score)
	if err := n.start(w, minStake); err != nil {
		t.Fatal(err)
	}
	ctx := &module.Context{
		Block: module.Block{ChainID: apptest.ChainID, Height: n.Height + 1, Time: n.Now.Add(time.Second), Committed: n.App.Store()},
		Store: state.NewOverlay(n.App.Store()),
	}
	m := compute.Module{Pools: n.pool}
	if err := m.Discrepancy(ctx, w.Pub()); err != nil {
		t.Fatal(err)
	}
	sess, _, err := compute.CurrentSession(ctx.Store, w.Pub())
	if err != nil {
		t.Fatal(err)
	}
	if sess.State != computeapi.StateCoolingDown || sess.Slashed != token.PHA(250) || len(n.pool.stopped) != 1 {
		t.Fatalf("after a discrepancy: %+v, pools told of %d stops", sess, len(n.pool.stopped))
	}
	// A second discrepancy slashes another share of what is left but
	// stops nothing more.
	if err := m.Discrepancy(ctx, w.Pub()); err != nil {
		t.Fatal(err)
	}
	sess, _, _ = compute.CurrentSession(ctx.Store, w.Pub())
	if sess.Slashed != token.PHA(500) || len(n.pool.stopped) != 1 {
		t.Fatalf("after a second discrepancy: slashed %s, %d stops", sess.Slashed, len(n.pool.stopped))
	}
	// The pool hears of the cooling session's slash at once.
	if len(n.pool.slashedCooling) != 1 || n.pool.slashedCooling[0] != token.PHA(250) {
		t.Fatalf("pools told of slashes while cooling down %v, want [250 PHA]", n.pool.slashedCooling)
	}
	// A worker without a session loses nothing.
	_, other, _ := ed25519.GenerateKey(nil)
	if err := m.Discrepancy(ctx, other.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
}
