package keys

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// The authority's transactions: decode, check (authority first after the form, then
// state), mutate, emit, publish for the gatekeepers.

func handleCreateCluster(ctx *module.Context, body []byte) error {
	b, err := keysapi.DecodeCreateCluster(body)
	if err != nil {
		return err
	}
	if err := requireAuthority(ctx); err != nil {
		return err
	}
	if _, exists, err := getCluster(ctx.Store, b.ID); err != nil {
		return err
	} else if exists {
		return keysapi.ErrClusterExists.Wrapf("%q", b.ID)
	}
	putCluster(ctx.Store, keysapi.ClusterInfo{ID: b.ID, Workers: nil, Publics: nil})
	ctx.Emit("cluster_created", module.A("cluster", b.ID))
	ctx.Publish(mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(keysapi.ClusterEvent{Cluster: b.ID})})
	return nil
}

func handleAssignWorker(ctx *module.Context, body []byte) error {
	b, err := keysapi.DecodeAssignWorker(body)
	if err != nil {
		return err
	}
	if err := requireAuthority(ctx); err != nil {
		return err
	}
	c, ok, err := getCluster(ctx.Store, b.Cluster)
	if err != nil {
		return err
	}
	if !ok {
		return keysapi.ErrUnknownCluster.Wrapf("%q", b.Cluster)
	}
	n, ok, err := registry.GetNode(ctx.Store, b.Worker)
	if err != nil {
		return err
	}
	if !ok || !n.Active || n.Role != registryapi.RoleWorker {
		return keysapi.ErrNotWorker.Wrapf("%x", []byte(b.Worker))
	}
	if in, err := ctx.Store.Get(workerKey.Key(b.Worker)); err != nil {
		return err
	} else if in != nil {
		return keysapi.ErrAssigned.Wrapf("%x is in cluster %q", []byte(b.Worker), in)
	}
	c.Workers = append(c.Workers, b.Worker)
	putCluster(ctx.Store, c)
	ctx.Store.Set(workerKey.Key(b.Worker), []byte(b.Cluster))
	ctx.Emit("worker_assigned", module.A("cluster", b.Cluster), module.A("worker", fmt.Sprintf("%x", []byte(b.Worker))))
	ev := keysapi.ClusterEvent{Cluster: b.Cluster, Worker: b.Worker, EncryptionKey: n.EncryptionKey}
	ctx.Publish(mq.Message{Topic: keysapi.TopicCluster, Payload: codec.MustMarshal(ev)})
	return nil
}

// handleRotate asks for the next generation. One at a time: until the
// pending generation's public key is recorded there is nothing to hand
// over yet, and a second request would only race the first.
func handleRotate(ctx *module.Context, body []byte) error {
	if _, err := keysapi.DecodeRotate(body); err != nil {
		return err
	}
	if err := requireAuthority(ctx); err != nil {
		return err
	}
	st, err := getStatus(ctx.Store)
	if err != nil {
		return err
	}
	if st.Pending != 0 {
		return keysapi.ErrRotationPending.Wrapf("generation %d has no public key yet", st.Pending)
	}
	st.Pending = st.Newest + 1
	putStatus(ctx.Store, st)
	ctx.Emit("master_rotation", module.A("generation", uint64(st.Pending)))
	ctx.Publish(mq.Message{Topic: keysapi.TopicRotation, Payload: codec.MustMarshal(keysapi.Rotation{Generation: st.Pending})})
	return nil
}

// RequestContractKey records that a contract needs its key in a cluster
// (so only requested contracts' public keys are accepted) and asks the
// gatekeepers. The contracts module calls it when it instantiates a
// contract, after its own checks; the cluster must exist. Asking again,
// after a rotation for instance, publishes the request again.
func RequestContractKey(ctx *module.Context, cluster string, contract []byte) error {
	if err := keysapi.CheckClusterID(cluster); err != nil {
		return err
	}
	if err := keysapi.CheckContractID(contract); err != nil {
		return err
	}
	if _, ok, err := getCluster(ctx.Store, cluster); err != nil {
		return err
	} else if !ok {
		return keysapi.ErrUnknownCluster.Wrapf("%q", cluster)
	}
	if _, ok, err := getContract(ctx.Store, cluster, contract); err != nil {
		return err
	} else if !ok {
		putContract(ctx.Store, keysapi.ContractInfo{Cluster: cluster, Contract: contract})
	}
	ctx.Emit("contract_key_requested", module.A("cluster", cluster), module.A("contract", fmt.Sprintf("%x", contract)))
	ctx.Publish(mq.Message{Topic: keysapi.TopicContract, Payload: codec.MustMarshal(keysapi.ContractEvent{Cluster: cluster, Contract: contract})})
	return nil
}

// HasCluster says whether a cluster exists.
func HasCluster(r state.Reader, id string) (bool, error) {
	_, ok, err := getCluster(r, id)
	return ok, err
}

// InCluster says whether worker (its identity key) is assigned to cluster.
func InCluster(r state.Reader, cluster string, worker []byte) (bool, error) {
	c, _, err := getCluster(r, cluster)
	if err != nil {
		return false, err
	}
	for _, w := range c.Workers {
		if bytes.Equal(w, worker) {
			return true, nil
		}
	}
	return false, nil
}

// ClusterWorkers returns the identity keys of a cluster's workers, in
// assignment order; ok is false for an unknown cluster.
func ClusterWorkers(r state.Reader, id string) ([]ed25519.PublicKey, bool, error) {
	c, ok, err := getCluster(r, id)
	return c.Workers, ok, err
}

// ClusterPublics returns a cluster's recorded public keys by generation
// (none: the cluster is unknown or has no key yet).
func ClusterPublics(r state.Reader, id string) ([]keysapi.ClusterPublic, error) {
	c, _, err := getCluster(r, id)
	return c.Publics, err
}

// ContractPublics returns a contract's recorded public keys by generation
// (none: no key requested, or none recorded yet).
func ContractPublics(r state.Reader, cluster string, contract []byte) ([]keysapi.ContractPublic, error) {
	c, _, err := getContract(r, cluster, contract)
	return c.Publics, err
}

// requireAuthority: clusters, assignments and master key rotations are
// the chain's authority's (governance, or a development chain's unsafe dev
// admin).
func requireAuthority(ctx *module.Context) error {
	return authority.Require(ctx.Store, ctx.Sender, keysapi.ErrUnauthorized)
}
