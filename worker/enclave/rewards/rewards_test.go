package rewards_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
	et "github.com/phala-go/phala/worker/enclave/enclavetest"
	"github.com/phala-go/phala/worker/enclave/rewards"
	"github.com/phala-go/phala/worker/lightclient"
)

// start is the chain's genesis time in these tests; the economy's clock
// starts with the first session (at 2 s in most).
var start = time.Unix(1_700_000_000, 0).UTC()

// at is block time start + d.
func at(d time.Duration) time.Time { return start.Add(d) }

var (
	everyone [32]byte // a target no hash reaches: every owing session is challenged
	no       [32]byte // a target of zero: no one is
)

func init() {
	for i := range everyone {
		everyone[i] = 0xff
	}
}

// net is a hand-made chain: two gatekeepers and two workers folding the
// same blocks, the test playing the chain (what it accepted, published).
type net struct {
	t       *testing.T
	params  computeapi.Params
	gks     []*et.Node
	workers []*et.Node
	height  int64
}

func newNet(t *testing.T) *net {
	p := computeapi.DevnetParams()
	n := &net{t: t, params: p}
	cfg := func(score uint64) et.Options {
		return et.Options{Rewards: &rewards.Config{Params: p, Score: score}}
	}
	for seed := byte(1); seed <= 2; seed++ {
		n.gks = append(n.gks, et.New(t, et.NewKeys(t, seed), registryapi.RoleGatekeeper, cfg(0)))
	}
	for seed := byte(11); seed <= 12; seed++ {
		n.workers = append(n.workers, et.New(t, et.NewKeys(t, seed), registryapi.RoleWorker, cfg(2000)))
	}
	return n
}

func (n *net) all() []*et.Node { return append(append([]*et.Node{}, n.gks...), n.workers...) }

// block folds the next block at time t into every node.
func (n *net) block(t time.Time, msgs ...mq.Message) {
	n.height++
	b := lightclient.Final{Height: n.height, Hash: et.BlockHash(n.height), Time: t, Messages: msgs}
	for _, node := range n.all() {
		node.Fold(b)
	}
}

// register is the block registering every node.
func (n *net) register(t time.Time) {
	var msgs []mq.Message
	for _, node := range n.gks {
		msgs = append(msgs, node.Keys.Event("registered", registryapi.RoleGatekeeper, true, nil))
	}
	for _, node := range n.workers {
		msgs = append(msgs, node.Keys.Event("registered", registryapi.RoleWorker, true, nil))
	}
	n.block(t, msgs...)
}

// session is worker i's session id i+1, started in the current block.
func (n *net) session(i int, t time.Time) computeapi.Session {
	p := n.params.Economy
	stake, err := tokenomics.MinStake(p, 2000)
	if err != nil {
		n.t.Fatal(err)
	}
	v, err := tokenomics.InitialValue(p, stake, 2000, tokenomics.ConfidenceSimulated)
	if err != nil {
		n.t.Fatal(err)
	}
	return computeapi.Session{
		ID: uint64(i + 1), Worker: n.workers[i].Keys.Pub(), State: computeapi.StateComputing, Stake: stake,
		Score: 2000, Confidence: tokenomics.ConfidenceSimulated, InitialV: v, V: v,
		StartedAt: t.UnixNano(), StartHeight: n.height + 1,
	}
}

func sessionMsg(kind string, s computeapi.Session) mq.Message {
	return mq.Message{Topic: computeapi.TopicSession, Payload: codec.MustMarshal(computeapi.SessionEvent{Kind: kind, Session: s})}
}

// challenge is the challenge at the end of the next block.
func (n *net) challenge(t time.Time, target [32]byte) mq.Message {
	h := n.height + 1
	c := computeapi.Challenge{Height: h, Time: t.UnixNano(), Seed: computeapi.ChallengeSeed(et.ChainID, h, et.BlockHash(h-1)), Target: target, Computing: 2}
	return mq.Message{Topic: computeapi.TopicChallenge, Payload: codec.MustMarshal(c)}
}

// heartbeats are the chain's republication of worker i's outbox
// heartbeats not yet republished, with the answers it accepted: a
// heartbeat with an answer to a challenge before `late` is refused whole,
// as the compute module does with a late answer.
func (n *net) heartbeats(i int, late ...int64) ([]mq.Message, []computeapi.Answer) {
	var msgs []mq.Message
	var answers []computeapi.Answer
	for _, se := range n.workers[i].Machine.Pending() {
		if se.Egress.Topic != registryapi.TopicHeartbeat {
			continue
		}
		var hb registryapi.Heartbeat
		if err := codec.UnmarshalCanonical(se.Egress.Payload, &hb); err != nil {
			n.t.Fatal(err)
		}
		if err := computeapi.CheckAnswers(hb.Answers); err != nil {
			n.t.Fatal(err)
		}
		if len(late) > 0 && len(hb.Answers) > 0 && hb.Answers[0].Challenge < late[0] {
			msgs = append(msgs, et.RefusedMsg(se))
			continue
		}
		answers = append(answers, hb.Answers...)
		msgs = append(msgs, et.EgressMsg(se))
	}
	return msgs, answers
}

// settlements are a gatekeeper's settlement payloads, in its outbox.
func settlements(node *et.Node) [][]byte { return node.Sent(computeapi.TopicSettlement) }

func decodeAll(t *testing.T, raw [][]byte) []computeapi.Settlement {
	t.Helper()
	var out []computeapi.Settlement
	for _, b := range raw {
		s, err := computeapi.DecodeSettlement(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// The worker's side: its score once registered, its answers to the
// challenges it owes, at once, in its heartbeat.
func TestWorkerReportsAndAnswers(t *testing.T) {
	n := newNet(t)
	w := n.workers[0]
	n.register(at(time.Second))
	bm := w.Sent(computeapi.TopicBenchmark)
	if len(bm) != 1 {
		t.Fatalf("%d benchmark reports", len(bm))
	}
	if got, err := computeapi.DecodeBenchmark(bm[0]); err != nil || got.Score != 2000 {
		t.Fatalf("benchmark %+v, %v", got, err)
	}
	if len(n.gks[0].Sent(computeapi.TopicBenchmark)) != 0 {
		t.Fatal("a gatekeeper reported a score")
	}
	s := n.session(0, at(2*time.Second))
	// The challenge of the session's own block is not owed.
	n.block(at(2*time.Second), sessionMsg(computeapi.KindStarted, s), n.challenge(at(2*time.Second), everyone))
	n.block(at(3*time.Second), n.challenge(at(3*time.Second), no))
	n.block(at(4*time.Second), n.challenge(at(4*time.Second), everyone))
	_, answers := n.heartbeats(0)
	if len(answers) != 1 || answers[0] != (computeapi.Answer{Session: 1, Challenge: 4}) {
		t.Fatalf("answers %+v, want one to the challenge of block 4", answers)
	}
	// The other worker computes nothing: it owes nothing.
	if _, other := n.heartbeats(1); len(other) != 0 {
		t.Fatalf("a worker out of session answered %+v", other)
	}
	// Stopped: challenges from its stop block on are not owed.
	s.StopHeight, s.StoppedAt, s.State = n.height+1, at(5*time.Second).UnixNano(), computeapi.StateCoolingDown
	n.block(at(5*time.Second), sessionMsg(computeapi.KindStopped, s), n.challenge(at(5*time.Second), everyone))
	if _, answers := n.heartbeats(0); len(answers) != 1 {
		t.Fatalf("answers after the stop: %+v", answers)
	}
	// Registered again: the score goes again.
	n.block(at(6*time.Second), w.Keys.Event("registered", registryapi.RoleWorker, true, nil))
	if got := len(w.Sent(computeapi.TopicBenchmark)); got != 2 {
		t.Fatalf("%d benchmark reports after registering again", got)
	}
}

// Two gatekeepers fold the same blocks and settle the same bytes: one
// worker answers, one does not and becomes unresponsive (no reward, V
// decays), then answers a later challenge and earns again.
func TestGatekeepersSettleAlike(t *testing.T) {
	n := newNet(t)
	n.register(at(time.Second))
	a, b := n.session(0, at(2*time.Second)), n.session(1, at(2*time.Second))
	n.block(at(2*time.Second), sessionMsg(computeapi.KindStarted, a), sessionMsg(computeapi.KindStarted, b))
	// Block 3: both challenged; only worker 0's heartbeat reaches the chain.
	n.block(at(3*time.Second), n.challenge(at(3*time.Second), everyone))
	hb0, _ := n.heartbeats(0)
	n.block(at(4*time.Second), hb0...)
	for _, gk := range n.gks {
		if len(settlements(gk)) != 0 {
			t.Fatal("settled before the period ended")
		}
	}
	// Block 5 at 14 s: period 1 (from the first session's start at 2 s
	// to 12 s) settles with both responsive (each active 10 s, same value:
	// half each); then worker 1's window (3 s + 10 s) has closed:
	// unresponsive.
	n.block(at(14 * time.Second))
	p1 := checkAlike(t, n)
	if len(p1) != 1 || p1[0].Period != 1 || len(p1[0].Workers) != 2 {
		t.Fatalf("period 1: %+v", p1)
	}
	budget1, _ := tokenomics.Budget(n.params.Economy, 0, 10*time.Second)
	w0, w1 := p1[0].Workers[0], p1[0].Workers[1]
	if w0.Reward != w1.Reward || w0.State != computeapi.StateComputing || w1.State != computeapi.StateComputing {
		t.Fatalf("period 1: %+v", p1[0].Workers)
	}
	half := tokenomics.Portion(budget1, fixed.One.Half())
	if w0.Reward != half {
		t.Fatalf("period 1 reward %s, want half of %s = %s", w0.Reward, budget1, half)
	}
	// Block 6 at 23 s: period 2 (to 22 s) settles; worker 1 is
	// unresponsive and gets nothing, worker 0 the whole budget.
	n.block(at(23 * time.Second))
	p2 := checkAlike(t, n)[1:]
	budget2, _ := tokenomics.Budget(n.params.Economy, 10*time.Second, 20*time.Second)
	w0, w1 = p2[0].Workers[0], p2[0].Workers[1]
	if p2[0].Period != 2 || w0.Reward != budget2 || !w1.Reward.IsZero() || w1.State != computeapi.StateUnresponsive {
		t.Fatalf("period 2: %+v (budget %s)", p2[0].Workers, budget2)
	}
	if w1.V.Cmp(a.V) >= 0 || w0.V.Cmp(a.V) < 0 {
		t.Fatalf("period 2: V %s (answering) and %s (not), from %s", w0.V, w1.V, a.V)
	}
	// Block 7: both challenged again; both answer (block 8): worker 1
	// recovers and earns in period 3, less than worker 0 (shorter, lower V).
	n.block(at(24*time.Second), n.challenge(at(24*time.Second), everyone))
	hb0, _ = n.heartbeats(0)
	hb1, answers1 := n.heartbeats(1, 7) // its answer to block 3 is late
	if len(answers1) != 1 || answers1[0].Challenge != 7 {
		t.Fatalf("worker 1 answers %+v", answers1)
	}
	n.block(at(25*time.Second), append(hb0, hb1...)...)
	n.block(at(33 * time.Second))
	p3 := checkAlike(t, n)[2:]
	w0, w1 = p3[0].Workers[0], p3[0].Workers[1]
	budget3, _ := tokenomics.Budget(n.params.Economy, 20*time.Second, 30*time.Second)
	sum, _ := w0.Reward.Add(w1.Reward)
	if w1.State != computeapi.StateComputing || w1.Reward.IsZero() || w1.Reward.Cmp(w0.Reward) >= 0 || sum.Cmp(budget3) > 0 {
		t.Fatalf("period 3: %+v (budget %s)", p3[0].Workers, budget3)
	}
	// The gatekeepers' states agree too.
	if !bytes.Equal(n.gks[0].Rewards.MarshalState(), n.gks[1].Rewards.MarshalState()) {
		t.Fatal("gatekeeper states differ")
	}
}

// checkAlike asserts the gatekeepers' settlements are byte-identical and
// returns them decoded.
func checkAlike(t *testing.T, n *net) []computeapi.Settlement {
	t.Helper()
	s0, s1 := settlements(n.gks[0]), settlements(n.gks[1])
	if len(s0) != len(s1) {
		t.Fatalf("gatekeepers sent %d and %d settlements", len(s0), len(s1))
	}
	for i := range s0 {
		if !bytes.Equal(s0[i], s1[i]) {
			t.Fatalf("settlement %d differs between gatekeepers", i)
		}
	}
	return decodeAll(t, s0)
}

// A session stopped right at the end of a period computed none of the
// next: settled in the one it ended, then gone (the chain would refuse it
// in the next).
func TestStopOnPeriodBoundary(t *testing.T) {
	n := newNet(t)
	n.register(at(time.Second))
	a := n.session(0, at(2*time.Second))
	n.block(at(2*time.Second), sessionMsg(computeapi.KindStarted, a))
	a.StopHeight, a.StoppedAt, a.State = n.height+1, at(12*time.Second).UnixNano(), computeapi.StateCoolingDown
	n.block(at(12*time.Second), sessionMsg(computeapi.KindStopped, a))
	n.block(at(35 * time.Second))
	got := checkAlike(t, n)
	if len(got) != 1 || got[0].Period != 1 || len(got[0].Workers) != 1 {
		t.Fatalf("settlements %+v: want period 1 only", got)
	}
}

// After a long gap between blocks a gatekeeper settles the last few
// periods, not every one of them.
func TestCatchUpIsBounded(t *testing.T) {
	n := newNet(t)
	n.register(at(time.Second))
	a := n.session(0, at(2*time.Second))
	n.block(at(2*time.Second), sessionMsg(computeapi.KindStarted, a))
	n.block(at(2*time.Second + 1000*n.params.SettleEvery + time.Second))
	got := checkAlike(t, n)
	if len(got) != 16 || got[0].Period != 985 || got[15].Period != 1000 {
		t.Fatalf("%d settlements from period %d", len(got), got[0].Period)
	}
	for _, s := range got {
		budget, _ := tokenomics.Budget(n.params.Economy, time.Duration(s.Period-1)*n.params.SettleEvery, time.Duration(s.Period)*n.params.SettleEvery)
		if s.Workers[0].Reward != budget {
			t.Fatalf("period %d: the only session got %s of %s", s.Period, s.Workers[0].Reward, budget)
		}
	}
}
