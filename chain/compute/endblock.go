package compute

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

var _ module.EndBlocker = Module{}

// EndBlock implements module.EndBlocker: it releases the sessions whose
// cool-down ended, forgets challenges whose answer window closed, and
// publishes the block's challenge while anyone computes. With no session
// and nothing due it writes nothing.
func (m Module) EndBlock(ctx *module.Context) error {
	if err := m.releaseCooledDown(ctx); err != nil {
		return err
	}
	p, err := GetParams(ctx.Store)
	if err != nil {
		return err
	}
	if err := pruneChallenges(ctx, p); err != nil {
		return err
	}
	return challenge(ctx, p)
}

var errStop = errors.New("stop")

// releaseCooledDown reads the time-ordered index only up to the block's
// time.
func (m Module) releaseCooledDown(ctx *module.Context) error {
	now := ctx.Time.UnixNano()
	var due [][]byte
	err := ctx.Committed.Iterate(computeapi.CoolDownKey.Prefix(), func(k, _ []byte) error {
		if int64(binary.BigEndian.Uint64(k[2:10])) > now {
			return errStop
		}
		due = append(due, append([]byte{}, k...))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	for _, k := range due {
		ctx.Store.Delete(k)
		sess, ok, err := GetSession(ctx.Store, binary.BigEndian.Uint64(k[10:18]))
		if err != nil {
			return err
		}
		if !ok || sess.Released || sess.State != computeapi.StateCoolingDown {
			continue
		}
		returned, err := release(ctx, sess)
		if err != nil {
			return err
		}
		if m.Pools != nil {
			if err := m.Pools.Released(ctx, sess.Pool, sess.Worker, returned, sess.Slashed); err != nil {
				return err
			}
		}
	}
	return nil
}

// pruneChallenges forgets the challenges no answer can reach any more: an
// answer to a challenge whose record is gone is late.
func pruneChallenges(ctx *module.Context, p computeapi.Params) error {
	now := ctx.Time.UnixNano()
	err := ctx.Committed.Iterate(computeapi.ChallengeKey.Prefix(), func(k, v []byte) error {
		var c computeapi.Challenge
		if err := codec.Unmarshal(v, &c); err != nil {
			return computeapi.ErrCorruptState.Wrapf("challenge: %v", err)
		}
		if now-c.Time <= int64(p.AnswerWindow) {
			return errStop
		}
		ctx.Store.Delete(append([]byte{}, k...))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// challenge publishes the block's challenge: a seed no one knew before the
// previous block was committed, and a target that challenges each session
// about once every ChallengeEvery of block time.
func challenge(ctx *module.Context, p computeapi.Params) error {
	n, err := computing(ctx.Store)
	if err != nil || n == 0 {
		return err
	}
	now := ctx.Time.UnixNano()
	last, err := getCounter(ctx.Store, computeapi.LastBlockKey.Key())
	if err != nil {
		return err
	}
	var span time.Duration
	if last != 0 && int64(last) < now {
		span = time.Duration(now - int64(last))
	}
	var prev []byte
	if ctx.RecentBlockHash != nil {
		if h, ok, err := ctx.RecentBlockHash(ctx.Height - 1); err != nil {
			return err
		} else if ok {
			prev = h
		}
	}
	c := computeapi.Challenge{
		Height: ctx.Height, Time: now, Computing: n,
		Seed:   computeapi.ChallengeSeed(ctx.ChainID, ctx.Height, prev),
		Target: computeapi.ChallengeTarget(n, computeapi.ExpectedChallenges(n, span, p.ChallengeEvery, p.MaxChallengesPerBlock)),
	}
	raw := codec.MustMarshal(c)
	ctx.Store.Set(computeapi.ChallengeKeyOf(ctx.Height), raw)
	putCounter(ctx.Store, computeapi.LastBlockKey.Key(), uint64(now))
	ctx.Publish(mq.Message{Topic: computeapi.TopicChallenge, Payload: raw})
	return nil
}
