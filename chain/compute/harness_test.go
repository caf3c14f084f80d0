package compute_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
)

// onePool is the least stake pools module compute's transactions can
// ask: one pool (id 1) owned by carol, its stake in an account of its
// own, and the calls compute made recorded. The real one is chain/pools;
// compute must work with any.
type onePool struct {
	owner    address.Address
	account  address.Address
	rewarded []token.Amount
	stopped  []uint64 // pools of stopped sessions
	released []token.Amount
	slashed  []token.Amount
	// slashedCooling: slashes of sessions already cooling down
	slashedCooling []token.Amount
}

var errNotOwner = errs.Register("onepool", 1, "not the pool's owner")

func (p *onePool) StakeFor(ctx *module.Context, sender address.Address, worker []byte, _ token.Amount) (uint64, address.Address, error) {
	n, ok, err := registry.GetNode(ctx.Store, worker)
	if err != nil {
		return 0, address.Address{}, err
	}
	if sender != p.owner || (ok && n.Operator != p.owner) {
		return 0, address.Address{}, errNotOwner.Wrapf("%s", sender)
	}
	return 1, p.account, nil
}

func (p *onePool) MayStop(_ *module.Context, sender address.Address, _ uint64, _ []byte) error {
	if sender != p.owner {
		return errNotOwner.Wrapf("%s", sender)
	}
	return nil
}

func (p *onePool) Rewarded(ctx *module.Context, _ uint64, amount token.Amount) error {
	if !ctx.CheckOnly {
		p.rewarded = append(p.rewarded, amount)
	}
	return nil
}

func (p *onePool) Stopped(ctx *module.Context, pool uint64, _ []byte, _ token.Amount) error {
	if !ctx.CheckOnly {
		p.stopped = append(p.stopped, pool)
	}
	return nil
}

func (p *onePool) Slashed(ctx *module.Context, _ uint64, _ []byte, amount token.Amount) error {
	if !ctx.CheckOnly {
		p.slashedCooling = append(p.slashedCooling, amount)
	}
	return nil
}

func (p *onePool) Released(ctx *module.Context, _ uint64, _ []byte, returned, slashed token.Amount) error {
	if !ctx.CheckOnly {
		p.released, p.slashed = append(p.released, returned), append(p.slashed, slashed)
	}
	return nil
}

// testParams: a clock a test can step through: blocks a second apart
// challenge every session (ChallengeEvery of a second), settlements every
// 10 s, 10 s to answer, a cool-down of a minute.
func testParams() computeapi.Params {
	p := computeapi.DevnetParams()
	p.ChallengeEvery = time.Second
	return p
}

// net is a chain with compute wired to onePool: bob runs two gatekeepers,
// carol operates workers and owns the pool, whose account holds 1M PHA.
type net struct {
	*apptest.Chain
	pool     *onePool
	gk, gk2  apptest.TEENode
	params   computeapi.Params
	accounts []address.Address // watched by snapshot
}

var poolAccount = address.Module("test/pool/1")

func newNet(t *testing.T, edit ...func(*computeapi.Params)) *net {
	t.Helper()
	return newNetWith(t, edit, nil)
}

// newNetWith is newNet with more of the chain's genesis edited.
func newNetWith(t *testing.T, edit []func(*computeapi.Params), more func(*app.Genesis)) *net {
	t.Helper()
	pool := &onePool{owner: apptest.Carol.Addr, account: poolAccount}
	params := testParams()
	for _, e := range edit {
		e(&params)
	}
	if more == nil {
		more = func(*app.Genesis) {}
	}
	h := apptest.New(t, apptest.WithGenesis(more),
		apptest.WithApp(func(chainID, dir string) (*app.App, error) {
			return app.NewWithModules(chainID, dir, slog.Default(), app.ModulesWith(pool))
		}),
		apptest.WithGenesis(func(g *app.Genesis) {
			raw, err := json.Marshal(computeapi.Genesis{Params: params})
			if err != nil {
				t.Fatal(err)
			}
			g.Modules[computeapi.Name] = raw
		}))
	h.Block()
	h.MustSucceed(h.Tx(apptest.Alice, registryapi.MethodSetGatekeeper, registryapi.SetGatekeeper{Grant: registryapi.Grant{Operator: apptest.Bob.Addr}, Allowed: true}))
	n := &net{Chain: h, pool: pool, accounts: []address.Address{bankapi.RewardPool, bankapi.Treasury, computeapi.StakeAccount, poolAccount}}
	// The params as the chain read them from its genesis file: decimals
	// in JSON round to the nearest 2^-64.
	if err := h.Query(computeapi.QueryParams, nil, &n.params); err != nil {
		t.Fatal(err)
	}
	n.gk = h.Register(apptest.Bob, registryapi.RoleGatekeeper)
	n.gk2 = h.Register(apptest.Bob, registryapi.RoleGatekeeper)
	h.MustSucceed(h.Tx(apptest.Carol, bankapi.MethodTransfer, bankapi.Transfer{To: poolAccount, Amount: token.PHA(1_000_000)}))
	return n
}

// worker registers a worker operated by carol that reports score.
func (n *net) worker(score uint64) apptest.TEENode {
	n.T.Helper()
	w := n.Register(apptest.Carol, registryapi.RoleWorker)
	n.mustAccept(w, computeapi.TopicBenchmark, computeapi.Benchmark{Score: score})
	return w
}

// send has node send payload on topic in a block of its own (relayed by
// alice) and returns the mq.submit's result.
func (n *net) send(node apptest.TEENode, topic string, payload any) *abci.ExecTxResult {
	n.T.Helper()
	raw, ok := payload.([]byte)
	if !ok {
		raw = codec.MustMarshal(payload)
	}
	r := n.Block(n.Submit(apptest.Alice, apptest.Egress(node, n.EgressSeq(node)+1, topic, raw))).TxResults[0]
	if r.Code != 0 {
		n.T.Fatalf("mq.submit failed: %s", r.Log)
	}
	return r
}

func (n *net) mustAccept(node apptest.TEENode, topic string, payload any) *abci.ExecTxResult {
	n.T.Helper()
	r := n.send(node, topic, payload)
	if err := apptest.Rejection(r.Events); err != nil || !apptest.HasEvent(r.Events, mq.EventAccepted) {
		n.T.Fatalf("%s not accepted: %v", topic, err)
	}
	return r
}

// mustRefuse requires the module to refuse the payload with want and
// nothing the module keeps to change.
func (n *net) mustRefuse(node apptest.TEENode, topic string, payload any, want error) {
	n.T.Helper()
	before := n.snapshot()
	r := n.send(node, topic, payload)
	if err := apptest.Rejection(r.Events); !errors.Is(err, want) {
		n.T.Fatalf("%s: refused with %v, want %v", topic, err, want)
	}
	n.sameAs(before)
}

// start sends compute.start from carol and returns its error.
func (n *net) start(w apptest.TEENode, stake token.Amount) error {
	n.T.Helper()
	return n.txErr(apptest.Carol, computeapi.MethodStart, computeapi.Start{Worker: w.Pub(), Stake: stake})
}

func (n *net) txErr(from apptest.Account, method string, body any) error {
	n.T.Helper()
	return apptest.TxErr(n.Block(n.Tx(from, method, body)).TxResults[0])
}

// mustRefuseTx requires the transaction to be refused with want, its fee
// paid and nothing the module keeps to change.
func (n *net) mustRefuseTx(from apptest.Account, method string, body any, want error) {
	n.T.Helper()
	before := n.snapshot()
	if err := n.txErr(from, method, body); !errors.Is(err, want) {
		n.T.Fatalf("%s: %v, want %v", method, err, want)
	}
	n.sameAs(before)
}

// snapshot is what the module keeps (but the per-block challenge, which
// moves on) and the watched accounts' balances.
type snapshot map[string][]byte

func (n *net) snapshot() snapshot {
	n.T.Helper()
	out := snapshot{}
	skip := [][]byte{computeapi.ChallengeKey.Prefix(), computeapi.LastBlockKey.Prefix()}
	err := n.App.Store().Iterate([]byte{state.ModuleCompute}, func(k, v []byte) error {
		for _, p := range skip {
			if bytes.HasPrefix(k, p) {
				return nil
			}
		}
		out[string(k)] = bytes.Clone(v)
		return nil
	})
	if err != nil {
		n.T.Fatal(err)
	}
	for _, a := range n.accounts {
		out["balance "+a.String()] = codec.MustMarshal(n.Account(a).Balance)
	}
	return out
}

// sameAs requires that nothing changed since before but the treasury's
// receipt of one transaction's fee (1 PHA: apptest's).
func (n *net) sameAs(before snapshot) {
	n.T.Helper()
	after := n.snapshot()
	var treasury token.Amount
	if err := codec.Unmarshal(before["balance "+bankapi.Treasury.String()], &treasury); err != nil {
		n.T.Fatal(err)
	}
	treasury, _ = treasury.Add(token.PHA(1))
	before["balance "+bankapi.Treasury.String()] = codec.MustMarshal(treasury)
	for k, v := range after {
		if !bytes.Equal(before[k], v) {
			n.T.Fatalf("%x changed: %x → %x", k, before[k], v)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			n.T.Fatalf("%x deleted", k)
		}
	}
}

func (n *net) workerInfo(w apptest.TEENode) computeapi.WorkerInfo {
	n.T.Helper()
	var info computeapi.WorkerInfo
	if err := n.Query(computeapi.QueryWorker, w.Pub(), &info); err != nil {
		n.T.Fatalf("worker query: %v", err)
	}
	return info
}

func (n *net) session(w apptest.TEENode) computeapi.Session {
	n.T.Helper()
	info := n.workerInfo(w)
	if info.Session == nil {
		n.T.Fatalf("worker %x has no session", w.Pub())
	}
	return *info.Session
}

func (n *net) balance(a address.Address) token.Amount {
	n.T.Helper()
	return n.Account(a).Balance
}

func (n *net) rewardPool() computeapi.RewardPoolInfo {
	n.T.Helper()
	var info computeapi.RewardPoolInfo
	if err := n.Query(computeapi.QueryRewardPool, nil, &info); err != nil {
		n.T.Fatalf("reward pool query: %v", err)
	}
	return info
}

// challenges returns the challenges the newest block published.
func (n *net) challenges() []computeapi.Challenge {
	n.T.Helper()
	var out []computeapi.Challenge
	for _, raw := range n.Published(computeapi.TopicChallenge) {
		var c computeapi.Challenge
		if err := codec.UnmarshalCanonical(raw, &c); err != nil {
			n.T.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// heartbeat is a registry heartbeat at the newest height carrying answers.
func (n *net) heartbeat(answers ...computeapi.Answer) registryapi.Heartbeat {
	return registryapi.Heartbeat{Height: n.Height, Answers: answers}
}

// economyStart is the block time the first session started at.
func (n *net) economyStart() time.Time {
	n.T.Helper()
	var info computeapi.EmissionInfo
	if err := n.Query(computeapi.QueryEmission, nil, &info); err != nil {
		n.T.Fatal(err)
	}
	return time.Unix(0, info.Start)
}

// untilPeriodEnds moves the clock so that the next block is past period's
// end.
func (n *net) untilPeriodEnds(period uint64) {
	end := n.economyStart().Add(time.Duration(period) * n.params.SettleEvery)
	if n.Now.Before(end) {
		n.Now = end
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var _ compute.Pools = (*onePool)(nil)
