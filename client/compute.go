package client

import (
	"context"
	"crypto/ed25519"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/token"
)

// Computation: a pool's owner starts and stops its workers; queries read
// sessions, the reward pool and the emission schedule from committed
// state.

// StartComputing starts worker computing with stake from its stake pool;
// key is the pool owner's.
func (c *Client) StartComputing(ctx context.Context, key ed25519.PrivateKey, worker ed25519.PublicKey, stake token.Amount) (Included, error) {
	return c.Send(ctx, key, computeapi.MethodStart, computeapi.Start{Worker: worker, Stake: stake})
}

// StopComputing stops worker's session: its stake returns to the pool
// after the cool-down.
func (c *Client) StopComputing(ctx context.Context, key ed25519.PrivateKey, worker ed25519.PublicKey) (Included, error) {
	return c.Send(ctx, key, computeapi.MethodStop, computeapi.Stop{Worker: worker})
}

// ComputeWorker reads a worker's score, state and current or last
// session.
func (c *Client) ComputeWorker(ctx context.Context, worker ed25519.PublicKey) (computeapi.WorkerInfo, error) {
	var out computeapi.WorkerInfo
	err := c.Query(ctx, computeapi.QueryWorker, worker, &out)
	return out, err
}

// Session reads a session by id.
func (c *Client) Session(ctx context.Context, id uint64) (computeapi.Session, error) {
	var out computeapi.Session
	err := c.Query(ctx, computeapi.QuerySession, computeapi.SessionIDBytes(id), &out)
	return out, err
}

// Sessions lists the sessions not yet released: of one pool, or of all
// when pool is 0.
func (c *Client) Sessions(ctx context.Context, pool uint64) ([]computeapi.Session, error) {
	var data []byte
	if pool != 0 {
		data = computeapi.SessionIDBytes(pool)
	}
	out := []computeapi.Session{}
	err := c.Query(ctx, computeapi.QuerySessions, data, &out)
	return out, err
}

// RewardPool reads the reward pool: its balance, what the schedule has
// emitted, what settlements paid, the last period settled.
func (c *Client) RewardPool(ctx context.Context) (computeapi.RewardPoolInfo, error) {
	var out computeapi.RewardPoolInfo
	err := c.Query(ctx, computeapi.QueryRewardPool, nil, &out)
	return out, err
}

// Emission reads the emission schedule.
func (c *Client) Emission(ctx context.Context) (computeapi.EmissionInfo, error) {
	var out computeapi.EmissionInfo
	err := c.Query(ctx, computeapi.QueryEmission, nil, &out)
	return out, err
}

// ComputeParams reads the compute module's params.
func (c *Client) ComputeParams(ctx context.Context) (computeapi.Params, error) {
	var out computeapi.Params
	err := c.Query(ctx, computeapi.QueryParams, nil, &out)
	return out, err
}
