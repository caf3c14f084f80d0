package client

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// Stake pools: transactions wait for their block; queries read committed
// state.

// CreatePool creates a pool owned by key's account and returns its id.
// capacity zero means no cap.
func (c *Client) CreatePool(ctx context.Context, key ed25519.PrivateKey, commission tokenomics.Permill, capacity token.Amount) (poolsapi.ID, Included, error) {
	inc, err := c.Send(ctx, key, poolsapi.MethodCreate, poolsapi.Create{Commission: commission, Capacity: capacity})
	if err != nil {
		return 0, inc, err
	}
	for _, e := range inc.Result.TxResult.Events {
		if e.Type != poolsapi.EventCreated {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "pool" {
				id, err := poolsapi.ParseID(a.Value)
				return id, inc, err
			}
		}
	}
	return 0, inc, fmt.Errorf("transaction %X created a pool but its event names none", inc.Hash)
}

// AddPoolWorker adds a worker the pool's owner operates to the pool.
func (c *Client) AddPoolWorker(ctx context.Context, owner ed25519.PrivateKey, pool poolsapi.ID, worker ed25519.PublicKey) (Included, error) {
	return c.Send(ctx, owner, poolsapi.MethodAddWorker, poolsapi.WorkerBody{Pool: pool, Worker: worker})
}

// RemovePoolWorker takes a worker with no session out of the pool.
func (c *Client) RemovePoolWorker(ctx context.Context, owner ed25519.PrivateKey, pool poolsapi.ID, worker ed25519.PublicKey) (Included, error) {
	return c.Send(ctx, owner, poolsapi.MethodRemoveWorker, poolsapi.WorkerBody{Pool: pool, Worker: worker})
}

// SetPoolCommission sets the owner's share of the pool's rewards.
func (c *Client) SetPoolCommission(ctx context.Context, owner ed25519.PrivateKey, pool poolsapi.ID, commission tokenomics.Permill) (Included, error) {
	return c.Send(ctx, owner, poolsapi.MethodSetCommission, poolsapi.SetCommission{Pool: pool, Commission: commission})
}

// SetPoolCapacity caps the pool's stake (zero lifts the cap).
func (c *Client) SetPoolCapacity(ctx context.Context, owner ed25519.PrivateKey, pool poolsapi.ID, capacity token.Amount) (Included, error) {
	return c.Send(ctx, owner, poolsapi.MethodSetCapacity, poolsapi.SetCapacity{Pool: pool, Capacity: capacity})
}

// Delegate brings amount to the pool for shares.
func (c *Client) Delegate(ctx context.Context, key ed25519.PrivateKey, pool poolsapi.ID, amount token.Amount) (Included, error) {
	return c.Send(ctx, key, poolsapi.MethodDelegate, poolsapi.Delegate{Pool: pool, Amount: amount})
}

// Undelegate queues shares for withdrawal: paid in the same block if the
// pool has the free stake, else as stake comes free.
func (c *Client) Undelegate(ctx context.Context, key ed25519.PrivateKey, pool poolsapi.ID, shares token.Amount) (Included, error) {
	return c.Send(ctx, key, poolsapi.MethodUndelegate, poolsapi.Undelegate{Pool: pool, Shares: shares})
}

// WithdrawRewards pays out amount of the sender's pending rewards (zero:
// all; the owner's commission counts too).
func (c *Client) WithdrawRewards(ctx context.Context, key ed25519.PrivateKey, pool poolsapi.ID, amount token.Amount) (Included, error) {
	return c.Send(ctx, key, poolsapi.MethodWithdraw, poolsapi.Withdraw{Pool: pool, Amount: amount})
}

// Pool reads a pool with its account's balance and workers.
func (c *Client) Pool(ctx context.Context, id poolsapi.ID) (poolsapi.PoolInfo, error) {
	var out poolsapi.PoolInfo
	err := c.Query(ctx, poolsapi.QueryPool, codec.MustMarshal(id), &out)
	return out, err
}

// Pools lists every pool, page after page.
func (c *Client) Pools(ctx context.Context) ([]poolsapi.PoolInfo, error) {
	all := []poolsapi.PoolInfo{}
	var after poolsapi.ID
	for {
		var page poolsapi.PoolList
		if err := c.Query(ctx, poolsapi.QueryPools, codec.MustMarshal(poolsapi.ListQuery{After: after}), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Pools...)
		if !page.More || len(page.Pools) == 0 {
			return all, nil
		}
		after = page.Pools[len(page.Pools)-1].Pool.ID
	}
}

// Position reads a delegator's shares in a pool, their value and its
// pending rewards.
func (c *Client) Position(ctx context.Context, pool poolsapi.ID, delegator address.Address) (poolsapi.Position, error) {
	var out poolsapi.Position
	err := c.Query(ctx, poolsapi.QueryPosition, codec.MustMarshal(poolsapi.PositionQuery{Pool: pool, Delegator: delegator}), &out)
	return out, err
}

// Positions reads a delegator's positions in every pool.
func (c *Client) Positions(ctx context.Context, delegator address.Address) ([]poolsapi.Position, error) {
	var out []poolsapi.Position
	err := c.Query(ctx, poolsapi.QueryPositions, delegator[:], &out)
	return out, err
}

// PoolQueue reads a pool's withdrawal queue, first in line first.
func (c *Client) PoolQueue(ctx context.Context, pool poolsapi.ID) ([]poolsapi.QueueEntry, error) {
	var out []poolsapi.QueueEntry
	err := c.Query(ctx, poolsapi.QueryQueue, codec.MustMarshal(pool), &out)
	return out, err
}

// WorkerPool reads which pool a worker is in and the stake it has there.
func (c *Client) WorkerPool(ctx context.Context, worker ed25519.PublicKey) (poolsapi.PoolWorker, error) {
	var out poolsapi.PoolWorker
	err := c.Query(ctx, poolsapi.QueryWorkerPool, worker, &out)
	return out, err
}

// PoolParams reads the stake pools' rules.
func (c *Client) PoolParams(ctx context.Context) (poolsapi.Params, error) {
	var out poolsapi.Params
	err := c.Query(ctx, poolsapi.QueryParams, nil, &out)
	return out, err
}
