package keys

import (
	"crypto/ed25519"
	"encoding/binary"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Query paths.
const (
	QueryMaster   = "keys/master"   // → MasterInfo
	QueryClusters = "keys/clusters" // → []ClusterInfo
	QueryCluster  = "keys/cluster"  // data: cluster id → ClusterInfo
	QueryContract = "keys/contract" // data: CBOR ContractQuery → []ContractPublic
	QueryHandouts = "keys/handouts" // data: identity key → Handouts
)

// MasterInfo answers QueryMaster.
type MasterInfo struct {
	_       struct{}       `cbor:",toarray"`
	Publics []MasterPublic // by generation
	Newest  uint32         // 0: none recorded yet
	Pending uint32         // 0: none
}

// ContractQuery is the data of QueryContract.
type ContractQuery struct {
	_        struct{} `cbor:",toarray"`
	Cluster  string
	Contract []byte
}

// Handouts answers QueryHandouts: what the chain carried to one node (zero
// records: nothing).
type Handouts struct {
	_       struct{} `cbor:",toarray"`
	Master  HandoutRecord
	Cluster HandoutRecord
}

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case QueryMaster:
		return masterInfo(r)
	case QueryClusters:
		return listClusters(r)
	case QueryCluster:
		c, ok, err := getCluster(r, string(data))
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("no cluster %q", data)
		}
		return c, err
	case QueryContract:
		return contractPublics(r, data)
	case QueryHandouts:
		return handouts(r, data)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func masterInfo(r state.IterReader) (MasterInfo, error) {
	st, err := getStatus(r)
	if err != nil {
		return MasterInfo{}, err
	}
	info := MasterInfo{Publics: []MasterPublic{}, Newest: st.Newest, Pending: st.Pending}
	prefix := masterKey.Prefix()
	err = r.Iterate(prefix, func(k, v []byte) error {
		if len(k) != len(prefix)+4 {
			return ErrCorruptState.Wrapf("master key entry %x", k)
		}
		gen := binary.BigEndian.Uint32(k[len(prefix):])
		info.Publics = append(info.Publics, MasterPublic{Generation: gen, PublicKey: append([]byte{}, v...)})
		return nil
	})
	return info, err
}

func listClusters(r state.IterReader) ([]ClusterInfo, error) {
	out := []ClusterInfo{}
	err := r.Iterate(clusterKey.Prefix(), func(_, v []byte) error {
		var c ClusterInfo
		if err := codec.Unmarshal(v, &c); err != nil {
			return ErrCorruptState.Wrapf("cluster: %v", err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func contractPublics(r state.IterReader, data []byte) ([]ContractPublic, error) {
	var q ContractQuery
	if err := codec.UnmarshalCanonical(data, &q); err != nil {
		return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR ContractQuery: %v", QueryContract, err)
	}
	if CheckClusterID(q.Cluster) != nil || CheckContractID(q.Contract) != nil {
		return nil, module.ErrBadQuery.Wrapf("cluster %q contract %x", q.Cluster, q.Contract)
	}
	c, ok, err := getContract(r, q.Cluster, q.Contract)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, module.ErrNotFound.Wrapf("no key requested for contract %x in cluster %q", q.Contract, q.Cluster)
	}
	if c.Publics == nil {
		c.Publics = []ContractPublic{}
	}
	return c.Publics, nil
}

func handouts(r state.IterReader, id []byte) (Handouts, error) {
	if len(id) != ed25519.PublicKeySize {
		return Handouts{}, module.ErrBadQuery.Wrapf("%s takes a %d-byte identity key", QueryHandouts, ed25519.PublicKeySize)
	}
	m, err := getHandout(r, masterHandoutKey.Key(id))
	if err != nil {
		return Handouts{}, err
	}
	c, err := getHandout(r, clusterHandoutKey.Key(id))
	return Handouts{Master: m, Cluster: c}, err
}
