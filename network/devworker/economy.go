package devworker

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

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
// alice delegating to every pool, and each worker computing with the
// least stake its score allows, so that rewards flow in a fresh devnet
// within a minute (settlements every 10 s of block time,
// computeapi.DevnetParams).
const (
	// Delegator delegates to the devnet's pools.
	Delegator = "alice"
	// DevCommission is the devnet pools' commission: 10%.
	DevCommission = tokenomics.Million / 10
)

// DevDelegation is what Delegator delegates to each pool: enough for the
// least stakes of two workers of score up to 40,000 (50·sqrt(P) PHA each).
var DevDelegation = token.PHA(20_000)

// Member is a devnet worker and the role it runs in.
type Member struct {
	Role     Role
	Identity ed25519.PublicKey
}

// PoolSetup is where a devnet worker computes.
type PoolSetup struct {
	Worker  ed25519.PublicKey
	Pool    poolsapi.ID
	Session uint64
	Stake   token.Amount
	Score   uint64
}

// SetUpEconomy waits for each worker's score on chain, then puts it in its
// operator's pool (created with DevCommission if none), delegates
// DevDelegation from Delegator to the pool and starts the worker computing
// with the least stake for its score, each step only if not done yet, so
// a resumed devnet does nothing new.
func SetUpEconomy(ctx context.Context, c *client.Client, members ...Member) ([]PoolSetup, error) {
	params, err := computeParams(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []PoolSetup
	for _, m := range members {
		s, err := setUpWorker(ctx, c, params, m)
		if err != nil {
			return out, fmt.Errorf("%s: %w", m.Role.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func computeParams(ctx context.Context, c *client.Client) (computeapi.Params, error) {
	var p computeapi.Params
	return p, c.Query(ctx, computeapi.QueryParams, nil, &p)
}

func setUpWorker(ctx context.Context, c *client.Client, p computeapi.Params, m Member) (PoolSetup, error) {
	owner := ed25519.NewKeyFromSeed(keyring.DevSeed(m.Role.Operator))
	info, err := poll(ctx, "the worker's performance score on chain", func() (computeapi.WorkerInfo, bool, error) {
		var w computeapi.WorkerInfo
		err := c.Query(ctx, computeapi.QueryWorker, m.Identity, &w)
		if errors.Is(err, module.ErrNotFound) {
			return w, false, nil
		}
		return w, err == nil && w.Worker.Score > 0, err
	})
	if err != nil {
		return PoolSetup{}, err
	}
	pool, err := ensurePool(ctx, c, owner, m.Identity)
	if err != nil {
		return PoolSetup{}, err
	}
	if err := ensureDelegation(ctx, c, pool); err != nil {
		return PoolSetup{}, err
	}
	setup := PoolSetup{Worker: m.Identity, Pool: pool, Score: info.Worker.Score}
	if info.State == computeapi.StateReady {
		stake, err := leastStake(p, info.Worker.Score)
		if err != nil {
			return setup, err
		}
		if err := retryNonce(ctx, func() error {
			_, err := c.Send(ctx, owner, computeapi.MethodStart, computeapi.Start{Worker: m.Identity, Stake: stake})
			return err
		}); err != nil {
			return setup, fmt.Errorf("start computing: %w", err)
		}
		if err := c.Query(ctx, computeapi.QueryWorker, m.Identity, &info); err != nil {
			return setup, err
		}
	}
	if info.Session != nil {
		setup.Session, setup.Stake = info.Session.ID, info.Session.Stake
	}
	return setup, nil
}

// ensurePool returns the worker's pool. A worker in none joins its
// operator's first pool, created if the operator owns none.
func ensurePool(ctx context.Context, c *client.Client, owner ed25519.PrivateKey, worker ed25519.PublicKey) (poolsapi.ID, error) {
	pw, err := c.WorkerPool(ctx, worker)
	if err == nil && pw.Pool != 0 {
		return pw.Pool, nil
	}
	if err != nil && !errors.Is(err, module.ErrNotFound) {
		return 0, err
	}
	id, err := ownedPool(ctx, c, address.FromPublicKey(owner.Public().(ed25519.PublicKey)))
	if err != nil {
		return 0, err
	}
	if id == 0 {
		if err := retryNonce(ctx, func() error {
			var err error
			id, _, err = c.CreatePool(ctx, owner, DevCommission, token.Amount{})
			return err
		}); err != nil {
			return 0, fmt.Errorf("create pool: %w", err)
		}
	}
	if err := retryNonce(ctx, func() error { _, err := c.AddPoolWorker(ctx, owner, id, worker); return err }); err != nil {
		return 0, fmt.Errorf("add worker to pool %s: %w", id, err)
	}
	return id, nil
}

// ownedPool is the first pool owner owns (0: none).
func ownedPool(ctx context.Context, c *client.Client, owner address.Address) (poolsapi.ID, error) {
	pools, err := c.Pools(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range pools {
		if p.Pool.Owner == owner {
			return p.Pool.ID, nil
		}
	}
	return 0, nil
}

// ensureDelegation delegates DevDelegation from Delegator to pool unless
// Delegator holds shares there.
func ensureDelegation(ctx context.Context, c *client.Client, pool poolsapi.ID) error {
	key := ed25519.NewKeyFromSeed(keyring.DevSeed(Delegator))
	pos, err := c.Position(ctx, pool, address.FromPublicKey(key.Public().(ed25519.PublicKey)))
	if err != nil && !errors.Is(err, module.ErrNotFound) {
		return err
	}
	if err == nil && !pos.Shares.IsZero() {
		return nil
	}
	return retryNonce(ctx, func() error { _, err := c.Delegate(ctx, key, pool, DevDelegation); return err })
}

// leastStake is the least stake for score in whole PHA: K·sqrt(P) rounded
// up.
func leastStake(p computeapi.Params, score uint64) (token.Amount, error) {
	min, err := tokenomics.MinStake(p.Economy, score)
	if err != nil {
		return min, err
	}
	whole, _ := tokenomics.PHA(min)
	stake := token.PHA(whole.Floor())
	if stake.Cmp(min) < 0 {
		stake = token.PHA(whole.Floor() + 1)
	}
	return stake, nil
}
