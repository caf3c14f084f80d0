package devworker

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// The devnet's economy: each worker in a stake pool its operator owns,
// alice delegating to every pool, and each worker computing with a stake
// from its pool as soon as its score is on chain, so rewards flow in a
// fresh devnet within a minute.

// Delegator is the development account that delegates to the devnet's pools.
const Delegator = "alice"

// Devnet pools' terms.
var (
	// Delegation is what alice brings to each pool.
	Delegation = token.PHA(20_000)
	// PoolCommission is each operator's commission.
	PoolCommission tokenomics.Permill = 100_000 // 10%
)

// PoolWorker is a devnet worker and the development account operating it.
type PoolWorker struct {
	Operator string
	Key      ed25519.PublicKey
}

// PoolInfo is what the devnet prints about a worker's pool.
type PoolInfo struct {
	Pool     poolsapi.ID
	Operator string
	Worker   ed25519.PublicKey
}

// SetUpPools puts each worker in a pool its operator owns (created with
// PoolCommission if the operator has none) and has alice delegate
// Delegation to each pool she holds nothing in; what is done already is
// left alone, so a resumed devnet does nothing. Operators' relays send
// transactions from the same accounts: nonce races are retried.
func SetUpPools(ctx context.Context, c *client.Client, workers ...PoolWorker) ([]PoolInfo, error) {
	var out []PoolInfo
	alice := devKey(Delegator)
	for _, w := range workers {
		op := devKey(w.Operator)
		id, err := operatorPool(ctx, c, op)
		if err != nil {
			return out, fmt.Errorf("%s's pool: %w", w.Operator, err)
		}
		if _, err := c.WorkerPool(ctx, w.Key); errors.Is(err, module.ErrNotFound) {
			if err := retryNonce(ctx, func() error { _, err := c.AddPoolWorker(ctx, op, id, w.Key); return err }); err != nil {
				return out, fmt.Errorf("add worker %x to pool %s: %w", w.Key[:4], id, err)
			}
		} else if err != nil {
			return out, err
		}
		pos, err := c.Position(ctx, id, addressOf(alice))
		if err != nil {
			return out, err
		}
		if pos.Shares.IsZero() {
			if err := retryNonce(ctx, func() error { _, err := c.Delegate(ctx, alice, id, Delegation); return err }); err != nil {
				return out, fmt.Errorf("%s delegating to pool %s: %w", Delegator, id, err)
			}
		}
		out = append(out, PoolInfo{Pool: id, Operator: w.Operator, Worker: w.Key})
	}
	return out, nil
}

// operatorPool is the first pool op owns, created if it owns none.
func operatorPool(ctx context.Context, c *client.Client, op ed25519.PrivateKey) (poolsapi.ID, error) {
	all, err := c.Pools(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range all {
		if p.Pool.Owner == addressOf(op) {
			return p.Pool.ID, nil
		}
	}
	var id poolsapi.ID
	err = retryNonce(ctx, func() error {
		var err error
		id, _, err = c.CreatePool(ctx, op, PoolCommission, token.Amount{})
		return err
	})
	return id, err
}

// StartComputing waits until the worker's performance score is on chain,
// then its operator starts it computing with a stake from its pool: the
// minimum for its score plus a tenth, in whole PHA. A worker already in a
// session is left alone.
func StartComputing(ctx context.Context, c *client.Client, p PoolInfo) error {
	var params computeapi.Params
	if err := c.Query(ctx, computeapi.QueryParams, nil, &params); err != nil {
		return err
	}
	info, err := poll(ctx, fmt.Sprintf("worker %x's performance score on chain", p.Worker[:4]), func() (computeapi.WorkerInfo, bool, error) {
		var info computeapi.WorkerInfo
		err := c.Query(ctx, computeapi.QueryWorker, p.Worker, &info)
		if errors.Is(err, module.ErrNotFound) {
			return info, false, nil
		}
		return info, err == nil && info.Worker.Score >= params.Economy.MinScore, err
	})
	if err != nil {
		return err
	}
	if info.State.InSession() || info.State == computeapi.StateCoolingDown {
		return nil
	}
	stake, err := devStake(params, info.Worker.Score)
	if err != nil {
		return err
	}
	op := devKey(p.Operator)
	return retryNonce(ctx, func() error {
		_, err := c.Send(ctx, op, computeapi.MethodStart, computeapi.Start{Worker: p.Worker, Stake: stake})
		return err
	})
}

// devStake is 110% of the minimum stake for score, rounded up to whole PHA.
func devStake(params computeapi.Params, score uint64) (token.Amount, error) {
	min, err := tokenomics.MinStake(params.Economy, score)
	if err != nil {
		return min, err
	}
	n := min.Big()
	n.Mul(n, big.NewInt(11))
	n.Quo(n, big.NewInt(10))
	one := token.One.Big()
	n.Add(n, new(big.Int).Sub(one, big.NewInt(1)))
	n.Quo(n, one)
	n.Mul(n, one)
	return token.FromBig(n)
}

func devKey(name string) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(keyring.DevSeed(name)) }

func addressOf(k ed25519.PrivateKey) address.Address {
	return address.FromPublicKey(k.Public().(ed25519.PublicKey))
}
