package compute

import (
	"errors"
	"time"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

var (
	_ module.EgressHandler   = Module{}
	_ module.PerSenderEgress = Module{}
	_ module.EgressFollower  = Module{}
)

// EgressTopics implements module.EgressHandler: workers' benchmarks and
// gatekeepers' settlements.
func (Module) EgressTopics() []string {
	return []string{computeapi.TopicBenchmark, computeapi.TopicSettlement}
}

// PerSenderTopic implements module.PerSenderEgress: a benchmark is about
// its sender; settlements are the same from every gatekeeper and count
// once.
func (Module) PerSenderTopic(topic string) bool { return topic == computeapi.TopicBenchmark }

// HandleEgress implements module.EgressHandler. The mq module has checked
// the signature, the sequence and that the sender is an active node.
func (m Module) HandleEgress(ctx *module.Context, from module.EgressSender, topic string, payload []byte) error {
	switch topic {
	case computeapi.TopicBenchmark:
		return handleBenchmark(ctx, from, payload)
	case computeapi.TopicSettlement:
		return m.handleSettlement(ctx, from, payload)
	}
	return computeapi.ErrInvalid.Wrapf("compute owns no egress topic %q", topic)
}

// FollowedEgressTopics implements module.EgressFollower: challenge
// answers ride in the registry's heartbeats.
func (Module) FollowedEgressTopics() []string { return []string{registryapi.TopicHeartbeat} }

// FollowEgress implements module.EgressFollower: the registry accepted
// the heartbeat; its answers, if any, are checked here, and a bad one
// refuses the whole heartbeat.
func (Module) FollowEgress(ctx *module.Context, from module.EgressSender, _ string, payload []byte) error {
	var hb registryapi.Heartbeat
	if err := codec.UnmarshalCanonical(payload, &hb); err != nil {
		return computeapi.ErrInvalid.Wrapf("heartbeat: %v", err)
	}
	if len(hb.Answers) == 0 {
		return nil
	}
	return handleAnswers(ctx, from, hb.Answers)
}

// handleBenchmark records a worker's performance score.
func handleBenchmark(ctx *module.Context, from module.EgressSender, payload []byte) error {
	if from.Role != uint8(registryapi.RoleWorker) {
		return computeapi.ErrNotWorker.Wrapf("%s is a %s", computeapi.Identity(from.IdentityKey), registryapi.Role(from.Role))
	}
	b, err := computeapi.DecodeBenchmark(payload)
	if err != nil {
		return err
	}
	w, _, err := GetWorker(ctx.Store, from.IdentityKey)
	if err != nil {
		return err
	}
	w.Identity, w.Score, w.ScoreHeight = from.IdentityKey, b.Score, ctx.Height
	putWorker(ctx.Store, w)
	ctx.Emit(computeapi.EventBenchmark, module.A("worker", computeapi.Identity(w.Identity)), module.A("score", b.Score))
	return nil
}

// handleAnswers records a worker's answers to the challenges it owes. Each
// must name its current session, a block whose challenge the session owes
// and that challenged the worker, answered for the first time, within the
// answer window of block time.
func handleAnswers(ctx *module.Context, from module.EgressSender, answers []computeapi.Answer) error {
	if err := computeapi.CheckAnswers(answers); err != nil {
		return err
	}
	if from.Role != uint8(registryapi.RoleWorker) {
		return computeapi.ErrNotWorker.Wrapf("%s is a %s", computeapi.Identity(from.IdentityKey), registryapi.Role(from.Role))
	}
	sess, ok, err := CurrentSession(ctx.Store, from.IdentityKey)
	if err != nil {
		return err
	}
	p, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	for _, a := range answers {
		if !ok || !sess.State.InSession() || a.Session != sess.ID {
			return computeapi.ErrUnknownSession.Wrapf("answer for session %d: %s is not computing in it", a.Session, computeapi.Identity(from.IdentityKey))
		}
		if err := checkAnswer(ctx, p, sess, a); err != nil {
			return err
		}
		sess.LastChallenge, sess.LastAnswer = a.Challenge, ctx.Height
		ctx.Emit(computeapi.EventAnswer, sessionAttrs(sess, module.A("challenge", a.Challenge))...)
	}
	putSession(ctx.Store, sess)
	return nil
}

func checkAnswer(ctx *module.Context, p computeapi.Params, sess computeapi.Session, a computeapi.Answer) error {
	id := computeapi.Identity(sess.Worker)
	switch {
	case a.Challenge >= ctx.Height:
		return computeapi.ErrNotChallenged.Wrapf("challenge %d is not a committed block (height %d)", a.Challenge, ctx.Height)
	case !sess.Owes(a.Challenge):
		return computeapi.ErrNotChallenged.Wrapf("session %d started at %d: it owes no challenge of block %d", sess.ID, sess.StartHeight, a.Challenge)
	case a.Challenge <= sess.LastChallenge:
		return computeapi.ErrNotChallenged.Wrapf("session %d already answered the challenge of block %d", sess.ID, sess.LastChallenge)
	}
	c, ok, err := getChallenge(ctx.Store, a.Challenge)
	if err != nil {
		return err
	}
	// Every block after the session started made a challenge (someone
	// was computing); its record is gone only once its window closed.
	if !ok || ctx.Time.UnixNano()-c.Time > int64(p.AnswerWindow) {
		return computeapi.ErrLateAnswer.Wrapf("the challenge of block %d closed %s after it", a.Challenge, p.AnswerWindow)
	}
	if !computeapi.Challenged(c.Seed, sess.Worker, c.Target) {
		return computeapi.ErrNotChallenged.Wrapf("block %d did not challenge %s", a.Challenge, id)
	}
	return nil
}

// handleSettlement pays a part of a period's settlement: each session's
// reward out of the reward pool, the treasury's share to the treasury and
// the rest to the session's pool, never more in a period than the
// schedule emits in it; and records each session's value and state.
func (m Module) handleSettlement(ctx *module.Context, from module.EgressSender, payload []byte) error {
	if from.Role != uint8(registryapi.RoleGatekeeper) {
		return computeapi.ErrNotGatekeeper.Wrapf("%s is a %s", computeapi.Identity(from.IdentityKey), registryapi.Role(from.Role))
	}
	s, err := computeapi.DecodeSettlement(payload)
	if err != nil {
		return err
	}
	p, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	prog, bounds, err := nextProgress(ctx, p, s)
	if err != nil {
		return err
	}
	pays, total, err := settleSessions(ctx, p, s, bounds)
	if err != nil {
		return err
	}
	if prog.Paid, err = prog.Paid.Add(total); err != nil || prog.Paid.Cmp(prog.Budget) > 0 {
		return computeapi.ErrOverBudget.Wrapf("period %d: %s settled, budget %s", s.Period, prog.Paid.PHAString(), prog.Budget.PHAString())
	}
	toPools, toTreasury, err := m.pay(ctx, pays)
	if err != nil {
		return err
	}
	if len(s.Workers) > 0 {
		prog.LastSession = s.Workers[len(s.Workers)-1].Session
	}
	prog.Next = s.Part + 1
	ctx.Store.Set(computeapi.ProgressKey.Key(), codec.MustMarshal(prog))
	if err := addTotals(ctx, func(t *computeapi.Totals) error {
		if err := addTo(&t.Paid, toPools); err != nil {
			return err
		}
		return addTo(&t.ToTreasury, toTreasury)
	}); err != nil {
		return err
	}
	ctx.Emit(computeapi.EventSettlement, module.A("period", s.Period), module.A("part", uint64(s.Part)), module.A("parts", uint64(s.Parts)),
		module.A("sessions", uint64(len(s.Workers))), module.A("to_pools", toPools), module.A("to_treasury", toTreasury))
	return nil
}

// period is the block time span [from, to) of a period, unix nanoseconds.
type period struct{ from, to int64 }

// nextProgress checks that s is the next part to settle and returns the
// progress it continues (a new period's, with its budget) and its bounds.
func nextProgress(ctx *module.Context, p computeapi.Params, s computeapi.Settlement) (computeapi.Progress, period, error) {
	prog, err := getProgress(ctx.Store)
	if err != nil {
		return prog, period{}, err
	}
	start, err := economyStart(ctx.Store)
	if err != nil {
		return prog, period{}, err
	}
	every := int64(p.SettleEvery)
	b := period{from: start + int64(s.Period-1)*every, to: start + int64(s.Period)*every}
	switch {
	case start == 0 || s.Period > uint64(ctx.Time.UnixNano()-start)/uint64(every):
		return prog, b, computeapi.ErrFuturePeriod.Wrapf("period %d ends at %d, block time %d", s.Period, b.to, ctx.Time.UnixNano())
	case s.Period < prog.Period || (s.Period == prog.Period && s.Part < prog.Next):
		return prog, b, computeapi.ErrStalePeriod.Wrapf("period %d part %d: settled up to period %d part %d", s.Period, s.Part, prog.Period, int64(prog.Next)-1)
	case s.Period == prog.Period && (s.Part != prog.Next || s.Parts != prog.Parts):
		return prog, b, computeapi.ErrBadPart.Wrapf("period %d: part %d of %d, expected part %d of %d", s.Period, s.Part, s.Parts, prog.Next, prog.Parts)
	case s.Period > prog.Period && s.Part != 0:
		return prog, b, computeapi.ErrBadPart.Wrapf("period %d starts with part %d", s.Period, s.Part)
	}
	if s.Period > prog.Period {
		budget, err := periodBudget(p, start, b)
		if err != nil {
			return prog, b, err
		}
		prog = computeapi.Progress{Period: s.Period, Parts: s.Parts, Budget: budget}
	} else if len(s.Workers) > 0 && s.Workers[0].Session <= prog.LastSession {
		return prog, b, computeapi.ErrInvalid.Wrapf("part %d starts at session %d, the part before ended at %d", s.Part, s.Workers[0].Session, prog.LastSession)
	}
	return prog, b, nil
}

func periodBudget(p computeapi.Params, start int64, b period) (token.Amount, error) {
	budget, err := tokenomics.Budget(p.Economy, time.Duration(b.from-start), time.Duration(b.to-start))
	if err != nil {
		return budget, computeapi.ErrCorruptState.Wrapf("budget: %v", err)
	}
	return budget, nil
}

// poolPay is what one pool's sessions earned in a part: the sum of their
// rewards' pool parts (net) and treasury parts (cut).
type poolPay struct {
	pool     uint64
	account  address.Address
	net, cut token.Amount
}

// settleSessions records each session's value and state and adds up the
// rewards' parts per pool account, in the order pools first appear. Each
// reward is split on its own (tokenomics.Params.Split), as the gatekeepers
// split it when they take the pool's part out of V: the chain pays a pool
// exactly the sum of the parts the gatekeepers counted, to the unit.
func settleSessions(ctx *module.Context, p computeapi.Params, s computeapi.Settlement, b period) ([]poolPay, token.Amount, error) {
	var (
		pays  []poolPay
		index = map[address.Address]int{}
		total token.Amount
	)
	for _, w := range s.Workers {
		sess, err := settleOne(ctx, p, s.Period, b, w)
		if err != nil {
			return nil, total, err
		}
		if w.Reward.IsZero() {
			continue
		}
		if total, err = total.Add(w.Reward); err != nil {
			return nil, total, computeapi.ErrOverBudget.Wrapf("rewards overflow")
		}
		i, ok := index[sess.Account]
		if !ok {
			i = len(pays)
			index[sess.Account] = i
			pays = append(pays, poolPay{pool: sess.Pool, account: sess.Account})
		}
		net, cut := p.Economy.Split(w.Reward)
		pays[i].net, _ = pays[i].net.Add(net) // within total
		pays[i].cut, _ = pays[i].cut.Add(cut)
	}
	return pays, total, nil
}

// settleOne applies one session's result: it must have computed during
// the period; its value is recorded, and a session still in a session
// moves to the state the gatekeepers saw. Only the session's standing is
// read and written, unless its state changes.
func settleOne(ctx *module.Context, p computeapi.Params, periodN uint64, b period, w computeapi.WorkerSettlement) (computeapi.Standing, error) {
	st, ok, err := getStanding(ctx.Store, w.Session)
	if err != nil {
		return st, err
	}
	if !ok || st.StartedAt >= b.to || (!st.State.InSession() && st.StoppedAt <= b.from) {
		return st, computeapi.ErrUnknownSession.Wrapf("session %d did not compute in period %d", w.Session, periodN)
	}
	if w.V.Cmp(p.Economy.VMax) > 0 {
		return st, computeapi.ErrInvalid.Wrapf("session %d: value %s above v_max %s", w.Session, w.V, p.Economy.VMax)
	}
	st.V, st.SettledPeriod = w.V, periodN
	if st.Rewards, err = st.Rewards.Add(w.Reward); err != nil {
		return st, computeapi.ErrCorruptState.Wrapf("session %d rewards overflow", w.Session)
	}
	if !st.State.InSession() || st.State == w.State {
		putStanding(ctx.Store, w.Session, st)
		return st, nil
	}
	sess, _, err := GetSession(ctx.Store, w.Session)
	if err != nil {
		return st, err
	}
	sess = sess.With(st)
	sess.State = w.State
	putSession(ctx.Store, sess)
	kind, event := computeapi.KindRecovered, computeapi.EventRecovered
	if w.State == computeapi.StateUnresponsive {
		kind, event = computeapi.KindUnresponsive, computeapi.EventUnresponsive
	}
	ctx.Emit(event, sessionAttrs(sess, module.A("period", periodN), module.A("v", sess.V))...)
	publish(ctx, kind, sess)
	return computeapi.StandingOf(sess), nil
}

// pay moves each pool's rewards out of the reward pool: the treasury's
// parts to the treasury in one move, the pool's parts to the pool's
// account, and tells the pools module.
func (m Module) pay(ctx *module.Context, pays []poolPay) (toPools, toTreasury token.Amount, err error) {
	for _, pp := range pays {
		if err := moveReward(ctx, pp.account, pp.net); err != nil {
			return toPools, toTreasury, err
		}
		toPools, _ = toPools.Add(pp.net) // within the period's budget
		toTreasury, _ = toTreasury.Add(pp.cut)
		if m.Pools != nil && !pp.net.IsZero() {
			if err := m.Pools.Rewarded(ctx, pp.pool, pp.net); err != nil {
				return toPools, toTreasury, err
			}
		}
	}
	return toPools, toTreasury, moveReward(ctx, bankapi.Treasury, toTreasury)
}

// moveReward pays from the reward pool, and from it only. The recipient
// (a pool's account, the treasury) is opened if need be: a small reward
// is owed whatever the bank's minimum for new accounts.
func moveReward(ctx *module.Context, to address.Address, amount token.Amount) error {
	if amount.IsZero() {
		return nil
	}
	if err := bank.OpenModuleAccount(ctx.Store, to); err != nil {
		return err
	}
	err := bank.Move(ctx.Store, bankapi.RewardPool, to, amount)
	if errors.Is(err, bankapi.ErrInsufficientFunds) {
		return computeapi.ErrOverBudget.Wrapf("reward pool: %v", err)
	}
	return err
}
