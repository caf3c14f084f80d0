package compute

import (
	"encoding/binary"
	"time"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/tokenomics"
)

// Query implements module.Module. The reward pool and emission answers
// are as of the last committed block's time, which the application does
// not hand queries: they use the time of the newest challenge or, before
// any, the economy's start.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case computeapi.QueryParams:
		return GetParams(r)
	case computeapi.QueryWorker:
		return workerInfo(r, data)
	case computeapi.QuerySession:
		if len(data) != 8 {
			return nil, module.ErrBadQuery.Wrapf("session id of %d bytes, want 8", len(data))
		}
		sess, ok, err := GetSession(r, binary.BigEndian.Uint64(data))
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("no session %d", binary.BigEndian.Uint64(data))
		}
		return sess, err
	case computeapi.QuerySessions:
		return listSessions(r, data)
	case computeapi.QueryRewardPool:
		return rewardPool(r)
	case computeapi.QueryEmission:
		return emission(r)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func workerInfo(r state.IterReader, identity []byte) (computeapi.WorkerInfo, error) {
	w, ok, err := GetWorker(r, identity)
	if err != nil {
		return computeapi.WorkerInfo{}, err
	}
	if !ok {
		return computeapi.WorkerInfo{}, module.ErrNotFound.Wrapf("worker %s has reported no score", computeapi.Identity(identity))
	}
	info := computeapi.WorkerInfo{Worker: w, State: computeapi.StateReady}
	if w.Session != 0 {
		sess, ok, err := GetSession(r, w.Session)
		if err != nil {
			return info, err
		}
		if ok {
			info.Session, info.State = &sess, sess.State
		}
	}
	return info, nil
}

// listSessions lists the sessions not yet released, of one pool or of all.
func listSessions(r state.IterReader, data []byte) ([]computeapi.Session, error) {
	prefix := computeapi.PoolSessionKey.Prefix()
	switch len(data) {
	case 0:
	case 8:
		prefix = computeapi.PoolSessionsPrefix(binary.BigEndian.Uint64(data))
	default:
		return nil, module.ErrBadQuery.Wrapf("pool id of %d bytes, want 8 or none", len(data))
	}
	out := []computeapi.Session{}
	err := r.Iterate(prefix, func(k, _ []byte) error {
		id := binary.BigEndian.Uint64(k[len(k)-8:])
		sess, ok, err := GetSession(r, id)
		if err != nil || !ok {
			return err
		}
		out = append(out, sess)
		return nil
	})
	return out, err
}

// now is the newest block time the module recorded.
func now(r state.Reader) (int64, error) {
	t, err := getCounter(r, computeapi.LastBlockKey.Key())
	if err != nil || t != 0 {
		return int64(t), err
	}
	return economyStart(r)
}

func rewardPool(r state.IterReader) (computeapi.RewardPoolInfo, error) {
	var info computeapi.RewardPoolInfo
	p, err := GetParams(r)
	if err != nil {
		return info, err
	}
	acc, err := bank.GetAccount(r, bankapi.RewardPool)
	if err != nil {
		return info, err
	}
	t, err := getTotals(r)
	if err != nil {
		return info, err
	}
	prog, err := getProgress(r)
	if err != nil {
		return info, err
	}
	start, err := economyStart(r)
	if err != nil {
		return info, err
	}
	at, err := now(r)
	if err != nil {
		return info, err
	}
	emitted, err := tokenomics.Emitted(p.Economy, time.Duration(at-start))
	if err != nil {
		return info, err
	}
	n, err := computing(r)
	if err != nil {
		return info, err
	}
	return computeapi.RewardPoolInfo{
		Balance: acc.Balance, Emitted: emitted, Paid: t.Paid, ToTreasury: t.ToTreasury, Slashed: t.Slashed,
		Period: prog.Period, NextEnds: start + int64(prog.Period+1)*int64(p.SettleEvery), Computing: n,
	}, nil
}

func emission(r state.IterReader) (computeapi.EmissionInfo, error) {
	var info computeapi.EmissionInfo
	p, err := GetParams(r)
	if err != nil {
		return info, err
	}
	if info.Start, err = economyStart(r); err != nil {
		return info, err
	}
	if info.Now, err = now(r); err != nil {
		return info, err
	}
	e := p.Economy
	elapsed := time.Duration(info.Now - info.Start)
	if info.Total, err = tokenomics.TotalEmission(e); err != nil {
		return info, err
	}
	if info.Emitted, err = tokenomics.Emitted(e, elapsed); err != nil {
		return info, err
	}
	span := int64(elapsed / e.DecayEvery)
	info.NextDecayAt = info.Start + (span+1)*int64(e.DecayEvery)
	day := 24 * time.Hour
	from := time.Duration(span) * e.DecayEvery
	if info.PerDayNow, err = tokenomics.Budget(e, from, from+day); err != nil {
		return info, err
	}
	info.Spans = make([]computeapi.Span, 0, computeapi.EmissionSpans)
	for i := range int64(computeapi.EmissionSpans) {
		a, b := time.Duration(i)*e.DecayEvery, time.Duration(i+1)*e.DecayEvery
		budget, err := tokenomics.Budget(e, a, b)
		if err != nil {
			return info, err
		}
		info.Spans = append(info.Spans, computeapi.Span{From: info.Start + int64(a), To: info.Start + int64(b), Budget: budget})
	}
	return info, nil
}
