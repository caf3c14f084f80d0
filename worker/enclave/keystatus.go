package enclave

import (
	"bytes"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/worker/enclave/keys"
)

// ClusterGen names one cluster key generation.
type ClusterGen = keys.ClusterGen

// KeyStatus is what the enclave shows of its keys: public facts only.
type KeyStatus struct {
	// MasterGenerations held (gatekeepers).
	MasterGenerations []uint32
	// Clusters held (workers).
	Clusters []ClusterGen
	// MasterPublics the chain recorded.
	MasterPublics []keysapi.MasterPublic
}

// KeyStatus reports the keys held and the master publics recorded.
func (r *Runtime) KeyStatus() KeyStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return KeyStatus{MasterGenerations: r.keys.Held(), Clusters: r.keys.HeldClusters(), MasterPublics: r.keys.MasterPublics()}
}

// ContractPublicKey derives a contract's public key from the newest
// generation of its cluster's key this enclave holds (a worker of the
// cluster, or a gatekeeper, which derives the cluster key itself).
func (r *Runtime) ContractPublicKey(cluster string, contract []byte) (keysapi.ContractPublic, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ck, g, ok := r.keys.NewestClusterKey(r.light.ChainID, r.ks, cluster)
	if !ok {
		return keysapi.ContractPublic{}, ErrNoKey.Wrapf("no key of cluster %q", cluster)
	}
	pub, err := keys.ContractPublicKey(r.light.ChainID, ck, contract)
	if err != nil {
		return keysapi.ContractPublic{}, ErrBadRequest.Wrapf("%v", err)
	}
	return keysapi.ContractPublic{Cluster: cluster, Contract: bytes.Clone(contract), Generation: g, PublicKey: pub}, nil
}
