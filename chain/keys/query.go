package keys

import (
	"crypto/ed25519"
	"encoding/binary"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case keysapi.QueryMaster:
		return masterInfo(r)
	case keysapi.QueryClusters:
		return listClusters(r)
	case keysapi.QueryCluster:
		c, ok, err := getCluster(r, string(data))
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("no cluster %q", data)
		}
		return c, err
	case keysapi.QueryContract:
		return contractPublics(r, data)
	case keysapi.QueryHandouts:
		return handouts(r, data)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func masterInfo(r state.IterReader) (keysapi.MasterInfo, error) {
	st, err := getStatus(r)
	if err != nil {
		return keysapi.MasterInfo{}, err
	}
	info := keysapi.MasterInfo{Publics: []keysapi.MasterPublic{}, Newest: st.Newest, Pending: st.Pending}
	prefix := masterKey.Prefix()
	err = r.Iterate(prefix, func(k, v []byte) error {
		if len(k) != len(prefix)+4 {
			return keysapi.ErrCorruptState.Wrapf("master key entry %x", k)
		}
		gen := binary.BigEndian.Uint32(k[len(prefix):])
		info.Publics = append(info.Publics, keysapi.MasterPublic{Generation: gen, PublicKey: append([]byte{}, v...)})
		return nil
	})
	return info, err
}

func listClusters(r state.IterReader) ([]keysapi.ClusterInfo, error) {
	out := []keysapi.ClusterInfo{}
	err := r.Iterate(clusterKey.Prefix(), func(_, v []byte) error {
		var c keysapi.ClusterInfo
		if err := codec.Unmarshal(v, &c); err != nil {
			return keysapi.ErrCorruptState.Wrapf("cluster: %v", err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func contractPublics(r state.IterReader, data []byte) ([]keysapi.ContractPublic, error) {
	var q keysapi.ContractQuery
	if err := codec.UnmarshalCanonical(data, &q); err != nil {
		return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR ContractQuery: %v", keysapi.QueryContract, err)
	}
	if keysapi.CheckClusterID(q.Cluster) != nil || keysapi.CheckContractID(q.Contract) != nil {
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
		c.Publics = []keysapi.ContractPublic{}
	}
	return c.Publics, nil
}

func handouts(r state.IterReader, id []byte) (keysapi.Handouts, error) {
	if len(id) != ed25519.PublicKeySize {
		return keysapi.Handouts{}, module.ErrBadQuery.Wrapf("%s takes a %d-byte identity key", keysapi.QueryHandouts, ed25519.PublicKeySize)
	}
	m, err := getHandout(r, masterHandoutKey.Key(id))
	if err != nil {
		return keysapi.Handouts{}, err
	}
	c, err := getHandout(r, clusterHandoutKey.Key(id))
	return keysapi.Handouts{Master: m, Cluster: c}, err
}
