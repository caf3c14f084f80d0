package compute

import (
	"time"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// The Go API of sessions. The stake pools module calls StartSession and
// StopSession (it has checked its owner and its books); compute's own
// transactions and hooks call them too.

// StartSession starts worker computing for pool with stake taken from
// account (the pool's), which also receives its rewards and, after the
// cool-down, the stake back. The worker must be an active registered
// worker with a performance score of at least MinScore and no session
// (ready); the stake must be at least tokenomics.MinStake of the score
// and give an initial value within VMax. Nothing changes on a refusal.
func StartSession(ctx *module.Context, worker []byte, pool uint64, account address.Address, stake token.Amount) (computeapi.Session, error) {
	p, err := GetParams(ctx.Store)
	if err != nil {
		return computeapi.Session{}, err
	}
	node, err := activeWorker(ctx, worker)
	if err != nil {
		return computeapi.Session{}, err
	}
	w, err := readyWorker(ctx, worker, p)
	if err != nil {
		return computeapi.Session{}, err
	}
	conf := computeapi.ConfidenceOf(node.Attestation)
	v0, err := checkStake(p.Economy, stake, w.Score, conf)
	if err != nil {
		return computeapi.Session{}, err
	}
	if err := bank.Move(ctx.Store, account, computeapi.StakeAccount, stake); err != nil {
		return computeapi.Session{}, err
	}
	id, err := nextSessionID(ctx.Store)
	if err != nil {
		return computeapi.Session{}, err
	}
	sess := computeapi.Session{
		ID: id, Worker: worker, Pool: pool, Account: account, State: computeapi.StateComputing,
		Stake: stake, Score: w.Score, Confidence: conf, InitialV: v0, V: v0,
		StartedAt: ctx.Time.UnixNano(), StartHeight: ctx.Height,
	}
	w.Session = id
	putWorker(ctx.Store, w)
	putSession(ctx.Store, sess)
	ctx.Store.Set(computeapi.PoolSessionKeyOf(pool, id), []byte{})
	n, err := addComputing(ctx.Store, 1)
	if err != nil {
		return computeapi.Session{}, err
	}
	if err := startClocks(ctx, n); err != nil {
		return computeapi.Session{}, err
	}
	ctx.Emit(computeapi.EventStarted, sessionAttrs(sess, module.A("stake", stake), module.A("v", v0), module.A("score", w.Score))...)
	publish(ctx, computeapi.KindStarted, sess)
	return sess, nil
}

// startClocks starts the economy with its first session, and the
// challenge clock whenever a session joins an empty field: the time no one
// computed challenges no one.
func startClocks(ctx *module.Context, computing uint64) error {
	now := uint64(ctx.Time.UnixNano())
	if start, err := economyStart(ctx.Store); err != nil || start != 0 {
		if err != nil {
			return err
		}
	} else {
		putCounter(ctx.Store, computeapi.StartKey.Key(), now)
	}
	if computing == 1 {
		putCounter(ctx.Store, computeapi.LastBlockKey.Key(), now)
	}
	return nil
}

// activeWorker is the registry's record of an active worker.
func activeWorker(ctx *module.Context, worker []byte) (registryapi.Node, error) {
	n, ok, err := registry.GetNode(ctx.Store, worker)
	switch {
	case err != nil:
		return n, err
	case !ok || !n.Active:
		return n, computeapi.ErrUnknownWorker.Wrapf("%s", computeapi.Identity(worker))
	case n.Role != registryapi.RoleWorker:
		return n, computeapi.ErrNotWorker.Wrapf("%s is a %s", computeapi.Identity(worker), n.Role)
	}
	return n, nil
}

// readyWorker is the worker's record if it has a score and no session.
func readyWorker(ctx *module.Context, worker []byte, p computeapi.Params) (computeapi.Worker, error) {
	w, ok, err := GetWorker(ctx.Store, worker)
	if err != nil {
		return w, err
	}
	if !ok || w.Score < p.Economy.MinScore {
		return w, computeapi.ErrNoScore.Wrapf("%s has score %d, at least %d needed", computeapi.Identity(worker), w.Score, p.Economy.MinScore)
	}
	if _, busy, err := CurrentSession(ctx.Store, worker); err != nil || busy {
		if err == nil {
			err = computeapi.ErrBusy.Wrapf("%s is in session %d", computeapi.Identity(worker), w.Session)
		}
		return w, err
	}
	return w, nil
}

// checkStake returns the initial value of a session of this stake.
func checkStake(p tokenomics.Params, stake token.Amount, score uint64, conf tokenomics.Confidence) (fixed.Q, error) {
	min, err := tokenomics.MinStake(p, score)
	if err != nil {
		return fixed.Q{}, computeapi.ErrStakeTooLow.Wrapf("%v", err)
	}
	if stake.Cmp(min) < 0 {
		return fixed.Q{}, computeapi.ErrStakeTooLow.Wrapf("stake %s, at least %s for score %d", stake.PHAString(), min.PHAString(), score)
	}
	v0, err := tokenomics.InitialValue(p, stake, score, conf)
	if err != nil {
		return fixed.Q{}, computeapi.ErrTooMuchStake.Wrapf("%v", err)
	}
	return v0, nil
}

// StopSession moves worker's session to CoolingDown: its stake stays
// locked for the cool-down, then goes back to its account (the end of a
// block after the cool-down releases it). Refused unless the session is
// computing or unresponsive.
func StopSession(ctx *module.Context, worker []byte, reason string) (computeapi.Session, error) {
	sess, ok, err := CurrentSession(ctx.Store, worker)
	if err != nil {
		return sess, err
	}
	if !ok || !sess.State.InSession() {
		return sess, computeapi.ErrNotComputing.Wrapf("%s", computeapi.Identity(worker))
	}
	p, err := GetParams(ctx.Store)
	if err != nil {
		return sess, err
	}
	now := ctx.Time.UnixNano()
	sess.State, sess.StoppedAt, sess.StopHeight, sess.Reason = computeapi.StateCoolingDown, now, ctx.Height, reason
	sess.CoolDownEnds = now + int64(p.Economy.CoolDown)
	putSession(ctx.Store, sess)
	ctx.Store.Set(computeapi.CoolDownKeyOf(sess.CoolDownEnds, sess.ID), []byte{})
	if _, err := addComputing(ctx.Store, -1); err != nil {
		return sess, err
	}
	ctx.Emit(computeapi.EventStopped, sessionAttrs(sess, module.A("reason", reason), module.A("cool_down_ends", time.Unix(0, sess.CoolDownEnds).UTC().Format(time.RFC3339)))...)
	publish(ctx, computeapi.KindStopped, sess)
	return sess, nil
}

// Slash sends Params.SlashShare of the stake of worker's session (not yet
// released) to the treasury, at most what is left of it, and stops the
// session if it still computes. It returns the amount slashed; a worker
// without a session loses nothing.
func Slash(ctx *module.Context, worker []byte, reason string) (token.Amount, error) {
	sess, ok, err := CurrentSession(ctx.Store, worker)
	if err != nil || !ok {
		return token.Amount{}, err
	}
	p, err := GetParams(ctx.Store)
	if err != nil {
		return token.Amount{}, err
	}
	amount, err := slashAmount(sess, p.SlashShare)
	if err != nil {
		return amount, err
	}
	if !amount.IsZero() {
		if err := bank.OpenModuleAccount(ctx.Store, bankapi.Treasury); err != nil {
			return amount, err
		}
		if err := bank.Move(ctx.Store, computeapi.StakeAccount, bankapi.Treasury, amount); err != nil {
			return amount, err
		}
		if sess.Slashed, err = sess.Slashed.Add(amount); err != nil {
			return amount, computeapi.ErrCorruptState.Wrapf("slashed: %v", err)
		}
		putSession(ctx.Store, sess)
		if err := addTotals(ctx, func(t *computeapi.Totals) error { return addTo(&t.Slashed, amount) }); err != nil {
			return amount, err
		}
	}
	ctx.Emit(computeapi.EventSlashed, sessionAttrs(sess, module.A("amount", amount), module.A("reason", reason))...)
	publish(ctx, computeapi.KindSlashed, sess)
	if sess.State.InSession() {
		if _, err := StopSession(ctx, worker, reason); err != nil {
			return amount, err
		}
	}
	return amount, nil
}

// slashAmount is share × stake (tokenomics.Part: the rule for every
// parameter's share of an amount), at most what is unslashed.
func slashAmount(sess computeapi.Session, share fixed.Q) (token.Amount, error) {
	left, err := sess.Stake.Sub(sess.Slashed)
	if err != nil {
		return token.Amount{}, computeapi.ErrCorruptState.Wrapf("session %d slashed beyond its stake", sess.ID)
	}
	amount := tokenomics.Part(sess.Stake, share)
	if amount.Cmp(left) > 0 {
		amount = left
	}
	return amount, nil
}

// release ends a cooled-down session: the stake less what was slashed goes
// back to its account, and the worker is ready again.
func release(ctx *module.Context, sess computeapi.Session) (returned token.Amount, err error) {
	if returned, err = sess.Stake.Sub(sess.Slashed); err != nil {
		return returned, computeapi.ErrCorruptState.Wrapf("session %d slashed beyond its stake", sess.ID)
	}
	if !returned.IsZero() {
		// The account may have been emptied and never existed as far as
		// the bank's minimum is concerned: the stake is owed whatever it is.
		if err := bank.OpenModuleAccount(ctx.Store, sess.Account); err != nil {
			return returned, err
		}
		if err := bank.Move(ctx.Store, computeapi.StakeAccount, sess.Account, returned); err != nil {
			return returned, err
		}
	}
	sess.Released, sess.State = true, computeapi.StateReady
	putSession(ctx.Store, sess)
	ctx.Store.Delete(computeapi.PoolSessionKeyOf(sess.Pool, sess.ID))
	ctx.Emit(computeapi.EventReleased, sessionAttrs(sess, module.A("returned", returned), module.A("slashed", sess.Slashed))...)
	publish(ctx, computeapi.KindReleased, sess)
	return returned, nil
}

func addTotals(ctx *module.Context, fn func(*computeapi.Totals) error) error {
	t, err := getTotals(ctx.Store)
	if err != nil {
		return err
	}
	if err := fn(&t); err != nil {
		return err
	}
	ctx.Store.Set(computeapi.TotalsKey.Key(), codec.MustMarshal(t))
	return nil
}

func addTo(sum *token.Amount, a token.Amount) error {
	s, err := sum.Add(a)
	if err != nil {
		return computeapi.ErrCorruptState.Wrapf("total overflow: %v", err)
	}
	*sum = s
	return nil
}

func publish(ctx *module.Context, kind string, sess computeapi.Session) {
	ctx.Publish(mq.Message{Topic: computeapi.TopicSession, Payload: codec.MustMarshal(computeapi.SessionEvent{Kind: kind, Session: sess})})
}

func sessionAttrs(sess computeapi.Session, more ...module.Attr) []module.Attr {
	return append([]module.Attr{
		module.A("session", sess.ID), module.A("worker", computeapi.Identity(sess.Worker)),
		module.A("pool", sess.Pool), module.A("state", sess.State),
	}, more...)
}
