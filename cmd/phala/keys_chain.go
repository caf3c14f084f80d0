package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/spf13/cobra"
)

// The key hierarchy as the chain records it: the authority's transactions
// (clusters, workers, rotation) and queries of the public keys. Contract keys are
// requested by instantiation (phala contract instantiate). The secrets
// live in gatekeepers' enclaves only.

func keysTxCmds() []*cobra.Command {
	return []*cobra.Command{txCreateClusterCmd(), txAssignWorkerCmd(), txRotateMasterKeyCmd()}
}

func keysQueryCmds() []*cobra.Command {
	return []*cobra.Command{queryMasterKeyCmd(), queryClustersCmd(), queryClusterCmd(), queryContractKeyCmd()}
}

// adminTxCmd is a transaction command signed by one key (a pool's owner,
// a delegator; see authorityTxCmd for the chain's authority): --from plus
// the keyring and node flags; body builds the transaction body from the flags.
func adminTxCmd(use, short, method string, flags func(*cobra.Command), body func() (any, error)) *cobra.Command {
	var (
		k    keyringFlags
		n    nodeFlag
		from string
	)
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := body()
			if err != nil {
				return err
			}
			return sendAdmin(&k, &n, from, method, b)
		},
	}
	k.register(cmd, true)
	n.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the signing key")
	cmd.MarkFlagRequired("from")
	if flags != nil {
		flags(cmd)
	}
	return cmd
}

func txCreateClusterCmd() *cobra.Command {
	var id string
	return authorityTxCmd("create-cluster --from ADMIN --id ID", "Create a cluster of workers", keysapi.MethodCreateCluster,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&id, "id", "", "cluster id: 1..64 letters, digits, '-' or '_'")
			cmd.MarkFlagRequired("id")
		},
		func() (any, error) { return keysapi.CreateCluster{ID: id}, keysapi.CheckClusterID(id) })
}

func txAssignWorkerCmd() *cobra.Command {
	var cluster, worker string
	return authorityTxCmd("assign-worker --from ADMIN --cluster ID --worker HEX", "Assign a registered worker to a cluster; gatekeepers then send it the cluster key", keysapi.MethodAssignWorker,
		func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&cluster, "cluster", "", "cluster id")
			cmd.Flags().StringVar(&worker, "worker", "", "the worker's identity key (hex)")
			cmd.MarkFlagRequired("cluster")
			cmd.MarkFlagRequired("worker")
		},
		func() (any, error) {
			id, err := hex.DecodeString(worker)
			if err != nil || len(id) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("invalid --worker %q: want 64 hex digits", worker)
			}
			return keysapi.AssignWorker{Cluster: cluster, Worker: id}, keysapi.CheckClusterID(cluster)
		})
}

func txRotateMasterKeyCmd() *cobra.Command {
	return authorityTxCmd("rotate-master-key --from ADMIN", "Start the next master key generation; refused while one is pending", keysapi.MethodRotate,
		nil, func() (any, error) { return keysapi.Rotate{}, nil })
}

func parseContractID(s string) ([]byte, error) {
	id, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return nil, fmt.Errorf("invalid contract id %q: want hex", s)
	}
	return id, keysapi.CheckContractID(id)
}

// publicKeyJSON is one generation's public key.
type publicKeyJSON struct {
	Generation uint32 `json:"generation"`
	PublicKey  string `json:"public_key"`
}

func publicKeysText(ps []publicKeyJSON) string {
	if len(ps) == 0 {
		return "  none recorded yet"
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = fmt.Sprintf("  generation %d  %s", p.Generation, p.PublicKey)
	}
	return strings.Join(lines, "\n")
}

type clusterJSON struct {
	ID         string          `json:"id"`
	Workers    []string        `json:"workers"`
	PublicKeys []publicKeyJSON `json:"public_keys"`
}

func clusterOut(c keysapi.ClusterInfo) clusterJSON {
	out := clusterJSON{ID: c.ID, Workers: []string{}, PublicKeys: []publicKeyJSON{}}
	for _, w := range c.Workers {
		out.Workers = append(out.Workers, hex.EncodeToString(w))
	}
	for _, p := range c.Publics {
		out.PublicKeys = append(out.PublicKeys, publicKeyJSON{Generation: p.Generation, PublicKey: hex.EncodeToString(p.PublicKey)})
	}
	return out
}

func (c clusterJSON) text() string {
	workers := "  none assigned"
	if len(c.Workers) > 0 {
		workers = "  " + strings.Join(c.Workers, "\n  ")
	}
	return fmt.Sprintf("cluster %s\nworkers\n%s\npublic keys\n%s", c.ID, workers, publicKeysText(c.PublicKeys))
}

func queryMasterKeyCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "master-key", Short: "The master key's public keys by generation, and the generation pending", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			m, err := c.MasterKeys(ctx)
			if err != nil {
				return err
			}
			out := struct {
				Newest      uint32          `json:"newest"`
				Pending     uint32          `json:"pending"`
				Generations []publicKeyJSON `json:"generations"`
			}{Newest: m.Newest, Pending: m.Pending, Generations: []publicKeyJSON{}}
			for _, p := range m.Publics {
				out.Generations = append(out.Generations, publicKeyJSON{Generation: p.Generation, PublicKey: hex.EncodeToString(p.PublicKey)})
			}
			return emit(out, func() string {
				pending := "none"
				if m.Pending != 0 {
					pending = fmt.Sprint(m.Pending)
				}
				return fmt.Sprintf("newest generation  %d\npending            %s\n%s", m.Newest, pending, publicKeysText(out.Generations))
			})
		},
	}
	n.register(cmd)
	return cmd
}

func queryClustersCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "clusters", Short: "Every cluster with its workers and public keys", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			all, err := c.Clusters(ctx)
			if err != nil {
				return err
			}
			out := make([]clusterJSON, len(all))
			texts := []string{}
			for i, cl := range all {
				out[i] = clusterOut(cl)
				texts = append(texts, out[i].text())
			}
			if len(texts) == 0 {
				texts = append(texts, "no clusters")
			}
			return emit(out, func() string { return strings.Join(texts, "\n\n") })
		},
	}
	n.register(cmd)
	return cmd
}

func queryClusterCmd() *cobra.Command {
	var n nodeFlag
	cmd := &cobra.Command{
		Use: "cluster ID", Short: "One cluster with its workers and public keys", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := keysapi.CheckClusterID(args[0]); err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			cl, err := c.Cluster(ctx, args[0])
			if err != nil {
				return err
			}
			out := clusterOut(cl)
			return emit(out, out.text)
		},
	}
	n.register(cmd)
	return cmd
}

func queryContractKeyCmd() *cobra.Command {
	var (
		n                 nodeFlag
		cluster, contract string
	)
	cmd := &cobra.Command{
		Use: "contract-key --cluster ID --contract HEX", Short: "A contract's public keys by generation", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			id, err := parseContractID(contract)
			if err != nil {
				return err
			}
			if err := keysapi.CheckClusterID(cluster); err != nil {
				return err
			}
			c, ctx, cancel, err := n.connect()
			if err != nil {
				return err
			}
			defer cancel()
			ps, err := c.ContractKeys(ctx, cluster, id)
			if err != nil {
				return err
			}
			out := struct {
				Cluster    string          `json:"cluster"`
				Contract   string          `json:"contract"`
				PublicKeys []publicKeyJSON `json:"public_keys"`
			}{Cluster: cluster, Contract: hex.EncodeToString(id), PublicKeys: []publicKeyJSON{}}
			for _, p := range ps {
				out.PublicKeys = append(out.PublicKeys, publicKeyJSON{Generation: p.Generation, PublicKey: hex.EncodeToString(p.PublicKey)})
			}
			return emit(out, func() string {
				return fmt.Sprintf("contract %s in cluster %s\n%s", out.Contract, cluster, publicKeysText(out.PublicKeys))
			})
		},
	}
	n.register(cmd)
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster id")
	cmd.Flags().StringVar(&contract, "contract", "", "contract id (hex)")
	cmd.MarkFlagRequired("cluster")
	cmd.MarkFlagRequired("contract")
	return cmd
}
