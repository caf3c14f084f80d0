package contracts

import (
	"bytes"
	"errors"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case contractsapi.QueryParams:
		return getParams(r)
	case contractsapi.QueryCode:
		h, err := hashData(path, data)
		if err != nil {
			return nil, err
		}
		c, ok, err := getCode(r, h)
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("no code %s", h)
		}
		return c, err
	case contractsapi.QueryUpload:
		q, err := contractsapi.DecodeUploadQuery(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR UploadQuery: %v", path, err)
		}
		u, ok, err := getUpload(r, q.Uploader, q.CodeHash)
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("no upload of %s by %s under way", q.CodeHash, q.Uploader)
		}
		return u, err
	case contractsapi.QueryContract:
		id, err := hashData(path, data)
		if err != nil {
			return nil, err
		}
		c, ok, err := getContract(r, id)
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("no contract %s", id)
		}
		return c, err
	case contractsapi.QueryContracts:
		q, err := contractsapi.DecodeListQuery(data)
		if err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR ListQuery: %v", path, err)
		}
		return listContracts(r, q)
	case contractsapi.QueryWorkers:
		return clusterWorkers(r, string(data))
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func hashData(path string, data []byte) (contractsapi.Hash, error) {
	var h contractsapi.Hash
	if len(data) != len(h) {
		return h, module.ErrBadQuery.Wrapf("%s takes a %d-byte hash, got %d bytes", path, len(h), len(data))
	}
	copy(h[:], data)
	return h, nil
}

var errPageFull = errors.New("page full")

// listContracts pages through contracts in id order.
func listContracts(r state.IterReader, q contractsapi.ListQuery) (contractsapi.ContractList, error) {
	limit := int(q.Limit)
	if limit == 0 || limit > contractsapi.MaxList {
		limit = contractsapi.MaxList
	}
	out := contractsapi.ContractList{Contracts: []contractsapi.Contract{}}
	prefix := contractsapi.ContractKey.Prefix()
	var zero contractsapi.Hash
	err := r.Iterate(prefix, func(k, v []byte) error {
		if q.After != zero && bytes.Compare(k[len(prefix):], q.After[:]) <= 0 {
			return nil
		}
		if len(out.Contracts) == limit {
			out.More = true
			return errPageFull
		}
		var c contractsapi.Contract
		if err := codec.Unmarshal(v, &c); err != nil {
			return contractsapi.ErrCorruptState.Wrapf("contract: %v", err)
		}
		out.Contracts = append(out.Contracts, c)
		return nil
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	return out, err
}

// clusterWorkers lists a cluster's workers with their standing and
// endpoints: how a client finds where to ask for receipts and queries.
func clusterWorkers(r state.Reader, cluster string) ([]contractsapi.ClusterWorker, error) {
	ids, ok, err := keys.ClusterWorkers(r, cluster)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, module.ErrNotFound.Wrapf("no cluster %q", cluster)
	}
	out := make([]contractsapi.ClusterWorker, 0, len(ids))
	for _, id := range ids {
		w := contractsapi.ClusterWorker{IdentityKey: id}
		n, ok, err := registry.GetNode(r, id)
		if err != nil {
			return nil, err
		}
		w.Active, w.LastHeartbeat = ok && n.Active, n.LastHeartbeat
		e, ok, err := registry.GetEndpoint(r, id)
		if err != nil {
			return nil, err
		}
		if ok {
			w.URL, w.EndpointHeight = e.URL, e.Height
		}
		out = append(out, w)
	}
	return out, nil
}
