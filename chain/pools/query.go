package pools

import (
	"errors"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/tokenomics"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case poolsapi.QueryParams:
		return GetParams(r)
	case poolsapi.QueryPool:
		id, err := poolsapi.DecodeID(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR pool id: %v", path, err)
		}
		p, err := mustPool(r, id)
		if errors.Is(err, poolsapi.ErrUnknownPool) {
			err = module.ErrNotFound.Wrapf("no pool %s", id)
		}
		if err != nil {
			return nil, err
		}
		return poolInfo(r, p)
	case poolsapi.QueryPools:
		q, err := poolsapi.DecodeListQuery(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR ListQuery: %v", path, err)
		}
		return listPools(r, q)
	case poolsapi.QueryPosition:
		q, err := poolsapi.DecodePositionQuery(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR PositionQuery: %v", path, err)
		}
		return position(r, q.Pool, q.Delegator)
	case poolsapi.QueryPositions:
		a, err := address.FromBytes(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a 20-byte address: %v", path, err)
		}
		return positions(r, a)
	case poolsapi.QueryQueue:
		id, err := poolsapi.DecodeID(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR pool id: %v", path, err)
		}
		return queue(r, id)
	case poolsapi.QueryWorkerPool:
		w, ok, err := GetWorker(r, data)
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("worker %x is in no pool", data)
		}
		return w, err
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func poolInfo(r state.IterReader, p poolsapi.Pool) (poolsapi.PoolInfo, error) {
	acc, err := bank.GetAccount(r, poolsapi.Account(p.ID))
	if err != nil {
		return poolsapi.PoolInfo{}, err
	}
	info := poolsapi.PoolInfo{Pool: p, Account: poolsapi.Account(p.ID), Balance: acc.Balance, Workers: []poolsapi.HexKey{}}
	prefix := poolsapi.PoolWorkerKeyOf(p.ID, nil)
	err = r.Iterate(prefix, func(k, _ []byte) error {
		info.Workers = append(info.Workers, poolsapi.HexKey(append([]byte(nil), k[len(prefix):]...)))
		return nil
	})
	return info, err
}

var errPageFull = errors.New("page full")

// listPools pages through pools in id order.
func listPools(r state.IterReader, q poolsapi.ListQuery) (poolsapi.PoolList, error) {
	limit := int(q.Limit)
	if limit == 0 || limit > poolsapi.MaxList {
		limit = poolsapi.MaxList
	}
	out := poolsapi.PoolList{Pools: []poolsapi.PoolInfo{}}
	err := r.Iterate(poolsapi.PoolKey.Prefix(), func(_, v []byte) error {
		var p poolsapi.Pool
		if err := codec.Unmarshal(v, &p); err != nil {
			return poolsapi.ErrCorruptState.Wrapf("pool: %v", err)
		}
		if p.ID <= q.After {
			return nil
		}
		if len(out.Pools) == limit {
			out.More = true
			return errPageFull
		}
		info, err := poolInfo(r, p)
		out.Pools = append(out.Pools, info)
		return err
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	return out, err
}

// position is what a delegator holds in a pool, valued now.
func position(r state.Reader, id poolsapi.ID, who address.Address) (poolsapi.Position, error) {
	p, err := mustPool(r, id)
	if errors.Is(err, poolsapi.ErrUnknownPool) {
		err = module.ErrNotFound.Wrapf("no pool %s", id)
	}
	if err != nil {
		return poolsapi.Position{}, err
	}
	d, _, err := getDelegation(r, id, who)
	if err != nil {
		return poolsapi.Position{}, err
	}
	return positionOf(p, who, d), nil
}

// positions are a delegator's positions in every pool it has shares or
// rewards in.
func positions(r state.IterReader, who address.Address) ([]poolsapi.Position, error) {
	out := []poolsapi.Position{}
	prefix := poolsapi.DelegatorKey.Key(who[:])
	err := r.Iterate(prefix, func(k, _ []byte) error {
		id, err := poolsapi.IDFromBytes(k[len(prefix):])
		if err != nil {
			return poolsapi.ErrCorruptState.Wrapf("delegator index: %v", err)
		}
		pos, err := position(r, id, who)
		out = append(out, pos)
		return err
	})
	return out, err
}

func queue(r state.IterReader, id poolsapi.ID) ([]poolsapi.QueueEntry, error) {
	out := []poolsapi.QueueEntry{}
	err := r.Iterate(poolsapi.QueueKey.Key(poolsapi.IDBytes(id)), func(_, v []byte) error {
		var e poolsapi.QueueEntry
		if err := codec.Unmarshal(v, &e); err != nil {
			return poolsapi.ErrCorruptState.Wrapf("queue entry: %v", err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

func positionOf(p poolsapi.Pool, who address.Address, d poolsapi.Delegation) poolsapi.Position {
	pos := poolsapi.Position{
		Pool: p.ID, Delegator: who, Shares: d.Shares, Queued: d.Queued,
		Value:   tokenomics.ShareValue(d.Shares, p.Shares, p.Stake),
		Rewards: pendingRewards(p, d),
	}
	if who == p.Owner {
		pos.Commission = p.OwnerRewards
	}
	return pos
}
