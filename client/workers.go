package client

import (
	"context"
	"fmt"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/tx"
)

// Workers on chain: every worker publishes the URL of its public API
// (registry.endpoint egress, signed by its identity key), and the
// contracts module lists a cluster's workers with their endpoints. A
// client without configured workers finds a contract's this way:
// contract → cluster → workers → endpoints. Whatever answers there is
// still checked by its signature against the cluster's workers.

// ClusterWorkers lists a cluster's workers: identity key, standing,
// published endpoint and newest heartbeat, in assignment order.
func (c *Client) ClusterWorkers(ctx context.Context, cluster string) ([]contractsapi.ClusterWorker, error) {
	var out []contractsapi.ClusterWorker
	if err := c.Query(ctx, contractsapi.QueryWorkers, []byte(cluster), &out); err != nil {
		return nil, fmt.Errorf("workers of cluster %q: %w", cluster, err)
	}
	return out, nil
}

// ClusterWorkerURLs are the endpoints of a cluster's active workers that
// published one, in assignment order (none: nobody to ask yet).
func (c *Client) ClusterWorkerURLs(ctx context.Context, cluster string) ([]string, error) {
	ws, err := c.ClusterWorkers(ctx, cluster)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, w := range ws {
		if w.Active && w.URL != "" {
			urls = append(urls, w.URL)
		}
	}
	return urls, nil
}

// ContractWorkerURLs are the endpoints of the active workers of a
// contract's cluster, with the cluster.
func (c *Client) ContractWorkerURLs(ctx context.Context, contract contractsapi.Hash) ([]string, string, error) {
	rec, err := c.Contract(ctx, contract)
	if err != nil {
		return nil, "", fmt.Errorf("contract %s: %w", contract, err)
	}
	urls, err := c.ClusterWorkerURLs(ctx, rec.Cluster)
	return urls, rec.Cluster, err
}

// CommandContract is the contract the command of transaction hash went
// to, read from the node's transaction index: how a client holding only
// a transaction hash finds whose workers to ask for its receipt.
func (c *Client) CommandContract(ctx context.Context, hash contractsapi.Hash) (contractsapi.Hash, error) {
	res, err := c.Tx(ctx, hash[:])
	if err != nil {
		return contractsapi.Hash{}, err
	}
	signed, err := tx.Decode(res.Tx)
	if err != nil {
		return contractsapi.Hash{}, fmt.Errorf("transaction %s: %w", hash, err)
	}
	if signed.Envelope.Method != contractsapi.MethodCommand {
		return contractsapi.Hash{}, contractsapi.ErrInvalid.Wrapf("transaction %s is %s, not a command", hash, signed.Envelope.Method)
	}
	cmd, err := contractsapi.DecodeCommand(signed.Envelope.Body)
	if err != nil {
		return contractsapi.Hash{}, fmt.Errorf("transaction %s: %w", hash, err)
	}
	return cmd.Contract, nil
}
