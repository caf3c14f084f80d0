package compute

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Handlers read single items (overlays do not iterate); queries and the
// end of a block iterate committed state.

// GetParams reads the module's params.
func GetParams(r state.Reader) (computeapi.Params, error) {
	var p computeapi.Params
	ok, err := getOptional(r, computeapi.ParamsKey.Key(), &p, "params")
	if err == nil && !ok {
		err = computeapi.ErrCorruptState.Wrapf("no params (chain not initialised)")
	}
	return p, err
}

// GetWorker reads a worker's record; ok is false if it never reported a
// score.
func GetWorker(r state.Reader, identity []byte) (w computeapi.Worker, ok bool, err error) {
	ok, err = getOptional(r, computeapi.WorkerKeyOf(identity), &w, "worker")
	return w, ok, err
}

func putWorker(s *state.Overlay, w computeapi.Worker) {
	s.Set(computeapi.WorkerKeyOf(w.Identity), codec.MustMarshal(w))
}

// GetSession reads a session by id, its settled figures included.
func GetSession(r state.Reader, id uint64) (sess computeapi.Session, ok bool, err error) {
	ok, err = getOptional(r, computeapi.SessionKeyOf(id), &sess, "session")
	if err != nil || !ok {
		return sess, ok, err
	}
	st, ok, err := getStanding(r, id)
	if err == nil && !ok {
		err = computeapi.ErrCorruptState.Wrapf("session %d has no standing", id)
	}
	return sess.With(st), ok, err
}

func getStanding(r state.Reader, id uint64) (st computeapi.Standing, ok bool, err error) {
	ok, err = getOptional(r, computeapi.StandingKeyOf(id), &st, "standing")
	return st, ok, err
}

func putStanding(s *state.Overlay, id uint64, st computeapi.Standing) {
	s.Set(computeapi.StandingKeyOf(id), codec.MustMarshal(st))
}

// CurrentSession is the worker's session unless it was released (or the
// worker never computed): what pools ask before starting or stopping.
func CurrentSession(r state.Reader, identity []byte) (computeapi.Session, bool, error) {
	w, ok, err := GetWorker(r, identity)
	if err != nil || !ok || w.Session == 0 {
		return computeapi.Session{}, false, err
	}
	sess, ok, err := GetSession(r, w.Session)
	if err != nil || !ok || sess.Released {
		return computeapi.Session{}, false, err
	}
	return sess, true, nil
}

// putSession writes a session's record and its standing.
func putSession(s *state.Overlay, sess computeapi.Session) {
	putStanding(s, sess.ID, computeapi.StandingOf(sess))
	sess = sess.With(computeapi.Standing{}) // the settled figures live in the standing
	s.Set(computeapi.SessionKeyOf(sess.ID), codec.MustMarshal(sess))
}

func nextSessionID(s *state.Overlay) (uint64, error) {
	last, err := getCounter(s, computeapi.NextSessionKey.Key())
	if err != nil {
		return 0, err
	}
	putCounter(s, computeapi.NextSessionKey.Key(), last+1)
	return last + 1, nil
}

// computing counts the sessions computing or unresponsive.
func computing(r state.Reader) (uint64, error) { return getCounter(r, computeapi.ComputingKey.Key()) }

// addComputing counts a session in (+1) or out (−1) and returns the count.
func addComputing(s *state.Overlay, delta int) (uint64, error) {
	n, err := computing(s)
	if err != nil {
		return 0, err
	}
	if delta < 0 && n < uint64(-delta) {
		return 0, computeapi.ErrCorruptState.Wrapf("%d sessions computing, %d leaving", n, -delta)
	}
	n = uint64(int64(n) + int64(delta))
	putCounter(s, computeapi.ComputingKey.Key(), n)
	return n, nil
}

func getProgress(r state.Reader) (computeapi.Progress, error) {
	var p computeapi.Progress
	_, err := getOptional(r, computeapi.ProgressKey.Key(), &p, "progress")
	return p, err
}

func getTotals(r state.Reader) (computeapi.Totals, error) {
	var t computeapi.Totals
	_, err := getOptional(r, computeapi.TotalsKey.Key(), &t, "totals")
	return t, err
}

// economyStart is the block time (unix ns) the emission schedule and the
// settlement periods count from: the first session's start; 0 before it.
func economyStart(r state.Reader) (int64, error) {
	n, err := getCounter(r, computeapi.StartKey.Key())
	return int64(n), err
}

func getChallenge(r state.Reader, height int64) (computeapi.Challenge, bool, error) {
	var c computeapi.Challenge
	ok, err := getOptional(r, computeapi.ChallengeKeyOf(height), &c, "challenge")
	return c, ok, err
}

func getCounter(r state.Reader, key []byte) (uint64, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return 0, err
	}
	if len(raw) != 8 {
		return 0, computeapi.ErrCorruptState.Wrapf("counter of %d bytes", len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

func putCounter(s *state.Overlay, key []byte, n uint64) {
	s.Set(key, binary.BigEndian.AppendUint64(nil, n))
}

func getOptional(r state.Reader, key []byte, v any, what string) (bool, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := codec.Unmarshal(raw, v); err != nil {
		return false, computeapi.ErrCorruptState.Wrapf("%s: %v", what, err)
	}
	return true, nil
}
