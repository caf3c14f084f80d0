package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
)

// queryWorkersCmd is `phala query workers`: every registered worker, or
// with --cluster or --contract the workers of that cluster with the
// public API endpoints they published on chain, which is where clients
// without configured workers send receipts, queries and events requests.
func queryWorkersCmd() *cobra.Command {
	var cluster, contract string
	cmd := queryNodesCmd("workers", "Registered workers; with --cluster or --contract, a cluster's workers and their endpoints", registryapi.RoleWorker, false)
	cmd.Use = "workers [--cluster NAME | --contract ID]"
	all := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if cluster == "" && contract == "" {
			return all(c, args)
		}
		if cluster != "" && contract != "" {
			return fmt.Errorf("give --cluster or --contract, not both")
		}
		// queryNodesCmd registered the node flags; read their values.
		var n nodeFlag
		n.url, _ = c.Flags().GetString("node")
		n.timeout, _ = c.Flags().GetDuration("timeout")
		return clusterWorkers(&n, cluster, contract)
	}
	cmd.Flags().StringVar(&cluster, "cluster", "", "list this cluster's workers with their published endpoints")
	cmd.Flags().StringVar(&contract, "contract", "", "list the workers of this contract's cluster with their endpoints")
	return cmd
}

type clusterWorkerJSON struct {
	IdentityKey    string `json:"identity_key"`
	Active         bool   `json:"active"`
	URL            string `json:"url,omitempty"`
	EndpointHeight int64  `json:"endpoint_height,omitempty"`
	LastHeartbeat  int64  `json:"last_heartbeat"`
}

func clusterWorkers(n *nodeFlag, cluster, contract string) error {
	c, ctx, cancel, err := n.connect()
	if err != nil {
		return err
	}
	defer cancel()
	if contract != "" {
		id, err := contractsapi.ParseHash(contract)
		if err != nil {
			return err
		}
		rec, err := c.Contract(ctx, id)
		if err != nil {
			return fmt.Errorf("contract %s: %w", id, err)
		}
		cluster = rec.Cluster
	}
	ws, err := c.ClusterWorkers(ctx, cluster)
	if err != nil {
		return err
	}
	out := struct {
		Cluster string              `json:"cluster"`
		Workers []clusterWorkerJSON `json:"workers"`
	}{Cluster: cluster, Workers: []clusterWorkerJSON{}}
	lines := []string{fmt.Sprintf("cluster %s: %d workers", cluster, len(ws))}
	for _, w := range ws {
		j := clusterWorkerJSON{IdentityKey: hex.EncodeToString(w.IdentityKey), Active: w.Active, URL: w.URL, EndpointHeight: w.EndpointHeight, LastHeartbeat: w.LastHeartbeat}
		out.Workers = append(out.Workers, j)
		state, where := "active", "no endpoint published"
		if !w.Active {
			state = "inactive"
		}
		if w.URL != "" {
			where = fmt.Sprintf("%s (since block %d)", w.URL, w.EndpointHeight)
		}
		lines = append(lines, fmt.Sprintf("  %s  %s  %s  last heartbeat %d", short(j.IdentityKey), state, where, w.LastHeartbeat))
	}
	return emit(out, func() string { return strings.Join(lines, "\n") })
}
