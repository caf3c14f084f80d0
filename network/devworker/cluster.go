package devworker

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/keyring"
)

// DefaultCluster is the cluster the devnet creates and puts its worker in.
const DefaultCluster = "default"

// admin is a development network's unsafe dev admin (gov.unsafe_dev_admin):
// it creates the cluster and assigns workers without a proposal.
const admin = "alice"

// ClusterInfo is what the devnet prints about its key hierarchy.
type ClusterInfo struct {
	MasterGeneration uint32
	MasterPublicKey  []byte
	Cluster          string
	ClusterPublicKey []byte
}

// SetUpCluster waits for the gatekeeper's master key to be on chain,
// creates the default cluster and assigns the workers to it (each only if
// not done yet, so a resumed devnet does nothing), then waits for the
// cluster's public key. The admin (alice) also operates the gatekeeper, so
// a transaction may race its relay for a nonce: those are retried.
func SetUpCluster(ctx context.Context, c *client.Client, workers ...ed25519.PublicKey) (ClusterInfo, error) {
	key := ed25519.NewKeyFromSeed(keyring.DevSeed(admin))
	master, err := poll(ctx, "the gatekeeper's master key on chain", func() (keysapi.MasterInfo, bool, error) {
		m, err := c.MasterKeys(ctx)
		return m, err == nil && m.Newest > 0, nil
	})
	if err != nil {
		return ClusterInfo{}, err
	}
	cl, err := c.Cluster(ctx, DefaultCluster)
	if err != nil {
		if err := retryNonce(ctx, func() error { _, err := c.CreateCluster(ctx, key, DefaultCluster); return err }); err != nil {
			return ClusterInfo{}, fmt.Errorf("create cluster %q: %w", DefaultCluster, err)
		}
	}
	for _, worker := range workers {
		if assigned(cl, worker) {
			continue
		}
		if err := retryNonce(ctx, func() error { _, err := c.AssignWorker(ctx, key, DefaultCluster, worker); return err }); err != nil {
			return ClusterInfo{}, fmt.Errorf("assign worker %x to %q: %w", worker[:4], DefaultCluster, err)
		}
	}
	cl, err = poll(ctx, "the cluster's public key on chain", func() (keysapi.ClusterInfo, bool, error) {
		cl, err := c.Cluster(ctx, DefaultCluster)
		return cl, err == nil && len(cl.Publics) > 0, nil
	})
	if err != nil {
		return ClusterInfo{}, err
	}
	newestMaster := master.Publics[len(master.Publics)-1]
	newestCluster := cl.Publics[len(cl.Publics)-1]
	return ClusterInfo{MasterGeneration: newestMaster.Generation, MasterPublicKey: newestMaster.PublicKey, Cluster: cl.ID, ClusterPublicKey: newestCluster.PublicKey}, nil
}

func assigned(cl keysapi.ClusterInfo, worker ed25519.PublicKey) bool {
	for _, w := range cl.Workers {
		if bytes.Equal(w, worker) {
			return true
		}
	}
	return false
}

// retryNonce runs send until it succeeds or fails for a reason other than
// a nonce taken by a concurrent transaction of the same account.
func retryNonce(ctx context.Context, send func() error) error {
	for {
		err := send()
		if err == nil || !(errors.Is(err, tx.ErrNonceTooLow) || errors.Is(err, tx.ErrNonceGap)) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// poll asks check every 200 ms until it says done, or ctx ends.
func poll[T any](ctx context.Context, what string, check func() (T, bool, error)) (T, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		v, done, err := check()
		if err != nil || done {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}
