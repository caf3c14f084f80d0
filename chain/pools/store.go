package pools

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
)

// Handlers read single items (overlays do not iterate); queries and the
// end of block iterate committed state.

// GetParams reads the module's params.
func GetParams(r state.Reader) (poolsapi.Params, error) {
	var p poolsapi.Params
	ok, err := getOptional(r, poolsapi.ParamsKey.Key(), &p, "params")
	if err == nil && !ok {
		err = poolsapi.ErrCorruptState.Wrapf("no params (chain not initialised)")
	}
	return p, err
}

func nextID(s *state.Overlay) (poolsapi.ID, error) {
	raw, err := s.Get(poolsapi.LastIDKey.Key())
	if err != nil {
		return 0, err
	}
	var last uint64
	if len(raw) == 8 {
		last = binary.BigEndian.Uint64(raw)
	}
	s.Set(poolsapi.LastIDKey.Key(), binary.BigEndian.AppendUint64(nil, last+1))
	return poolsapi.ID(last + 1), nil
}

// GetPool reads a pool; ok is false if there is none.
func GetPool(r state.Reader, id poolsapi.ID) (poolsapi.Pool, bool, error) {
	var p poolsapi.Pool
	ok, err := getOptional(r, poolsapi.PoolKeyOf(id), &p, "pool")
	return p, ok, err
}

// mustPool reads a pool that must exist.
func mustPool(r state.Reader, id poolsapi.ID) (poolsapi.Pool, error) {
	p, ok, err := GetPool(r, id)
	if err == nil && !ok {
		err = poolsapi.ErrUnknownPool.Wrapf("pool %s", id)
	}
	return p, err
}

func putPool(s *state.Overlay, p poolsapi.Pool) {
	s.Set(poolsapi.PoolKeyOf(p.ID), codec.MustMarshal(p))
}

func getDelegation(r state.Reader, id poolsapi.ID, who address.Address) (poolsapi.Delegation, bool, error) {
	var d poolsapi.Delegation
	ok, err := getOptional(r, poolsapi.DelegationKeyOf(id, who), &d, "delegation")
	return d, ok, err
}

// putDelegation writes a position, or deletes it (and its index entry)
// once it holds nothing: no shares, no rewards left to claim.
func putDelegation(s *state.Overlay, id poolsapi.ID, who address.Address, d poolsapi.Delegation) {
	if d.Shares.IsZero() && d.Queued.IsZero() && d.Pending.IsZero() && d.Paid.IsZero() {
		s.Delete(poolsapi.DelegationKeyOf(id, who))
		s.Delete(poolsapi.DelegatorKeyOf(who, id))
		return
	}
	s.Set(poolsapi.DelegationKeyOf(id, who), codec.MustMarshal(d))
	s.Set(poolsapi.DelegatorKeyOf(who, id), []byte{})
}

func getEntry(r state.Reader, id poolsapi.ID, index uint64) (poolsapi.QueueEntry, bool, error) {
	var e poolsapi.QueueEntry
	ok, err := getOptional(r, poolsapi.QueueKeyOf(id, index), &e, "queue entry")
	return e, ok, err
}

func putEntry(s *state.Overlay, id poolsapi.ID, index uint64, e poolsapi.QueueEntry) {
	s.Set(poolsapi.QueueKeyOf(id, index), codec.MustMarshal(e))
}

// GetWorker reads a worker's membership of a pool; ok is false if it is
// in none.
func GetWorker(r state.Reader, worker []byte) (poolsapi.PoolWorker, bool, error) {
	var w poolsapi.PoolWorker
	ok, err := getOptional(r, poolsapi.WorkerKeyOf(worker), &w, "pool worker")
	return w, ok, err
}

func putWorker(s *state.Overlay, w poolsapi.PoolWorker) {
	s.Set(poolsapi.WorkerKeyOf(w.Worker), codec.MustMarshal(w))
	s.Set(poolsapi.PoolWorkerKeyOf(w.Pool, w.Worker), []byte{})
}

func deleteWorker(s *state.Overlay, w poolsapi.PoolWorker) {
	s.Delete(poolsapi.WorkerKeyOf(w.Worker))
	s.Delete(poolsapi.PoolWorkerKeyOf(w.Pool, w.Worker))
}

func getOptional(r state.Reader, key []byte, v any, what string) (bool, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := codec.Unmarshal(raw, v); err != nil {
		return false, poolsapi.ErrCorruptState.Wrapf("%s: %v", what, err)
	}
	return true, nil
}
