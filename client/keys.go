package client

import (
	"context"
	"crypto/ed25519"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/codec"
)

// MasterKeys reads the master key's recorded public keys (by generation)
// and the generation pending, if any.
func (c *Client) MasterKeys(ctx context.Context) (keysapi.MasterInfo, error) {
	var m keysapi.MasterInfo
	err := c.Query(ctx, keysapi.QueryMaster, nil, &m)
	return m, err
}

// Clusters lists every cluster with its workers and public keys.
func (c *Client) Clusters(ctx context.Context) ([]keysapi.ClusterInfo, error) {
	var out []keysapi.ClusterInfo
	err := c.Query(ctx, keysapi.QueryClusters, nil, &out)
	return out, err
}

// Cluster reads one cluster.
func (c *Client) Cluster(ctx context.Context, id string) (keysapi.ClusterInfo, error) {
	var out keysapi.ClusterInfo
	err := c.Query(ctx, keysapi.QueryCluster, []byte(id), &out)
	return out, err
}

// ContractKeys reads a contract's public keys (by generation); the
// derivation must have been requested.
func (c *Client) ContractKeys(ctx context.Context, cluster string, contract []byte) ([]keysapi.ContractPublic, error) {
	data, err := codec.Marshal(keysapi.ContractQuery{Cluster: cluster, Contract: contract})
	if err != nil {
		return nil, err
	}
	var out []keysapi.ContractPublic
	err = c.Query(ctx, keysapi.QueryContract, data, &out)
	return out, err
}

// KeyHandouts reads what the chain carried to a node: master and cluster
// key hand-outs.
func (c *Client) KeyHandouts(ctx context.Context, identityKey []byte) (keysapi.Handouts, error) {
	var out keysapi.Handouts
	err := c.Query(ctx, keysapi.QueryHandouts, identityKey, &out)
	return out, err
}

// CreateCluster creates a cluster (admin) and waits for its block.
func (c *Client) CreateCluster(ctx context.Context, admin ed25519.PrivateKey, id string) (Included, error) {
	return c.Send(ctx, admin, keysapi.MethodCreateCluster, keysapi.CreateCluster{ID: id})
}

// AssignWorker puts a registered worker into a cluster (admin) and waits.
func (c *Client) AssignWorker(ctx context.Context, admin ed25519.PrivateKey, cluster string, worker ed25519.PublicKey) (Included, error) {
	return c.Send(ctx, admin, keysapi.MethodAssignWorker, keysapi.AssignWorker{Cluster: cluster, Worker: worker})
}

// RotateMasterKey starts the next master key generation (admin) and waits.
func (c *Client) RotateMasterKey(ctx context.Context, admin ed25519.PrivateKey) (Included, error) {
	return c.Send(ctx, admin, keysapi.MethodRotate, keysapi.Rotate{})
}
