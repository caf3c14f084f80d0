package registry

import (
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case registryapi.QueryNode:
		n, ok, err := getNode(r, data)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, module.ErrNotFound.Wrapf("no node with identity key %x", data)
		}
		return n, nil
	case registryapi.QueryNodes:
		role := registryapi.Role(0)
		if len(data) == 1 {
			role = registryapi.Role(data[0])
		}
		return listNodes(r, func(n registryapi.Node) bool { return role == 0 || n.Role == role })
	case registryapi.QueryGatekeepers:
		return gatekeepers(r)
	case registryapi.QueryPolicy:
		return GetPolicy(r)
	case registryapi.QueryParams:
		return getParams(r)
	case registryapi.QueryEndpoint:
		e, ok, err := GetEndpoint(r, data)
		if err == nil && !ok {
			err = module.ErrNotFound.Wrapf("node %x published no endpoint", data)
		}
		return e, err
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

func listNodes(r state.IterReader, keep func(registryapi.Node) bool) ([]registryapi.Node, error) {
	out := []registryapi.Node{}
	err := r.Iterate(nodeKey.Prefix(), func(_, v []byte) error {
		var n registryapi.Node
		if err := codec.Unmarshal(v, &n); err != nil {
			return registryapi.ErrCorruptState.Wrapf("node: %v", err)
		}
		if keep(n) {
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

func gatekeepers(r state.IterReader) (registryapi.GatekeepersInfo, error) {
	info := registryapi.GatekeepersInfo{Grants: []registryapi.Grant{}}
	for _, prefix := range [][]byte{grantByKey.Prefix(), grantByOperator.Prefix()} {
		err := r.Iterate(prefix, func(_, v []byte) error {
			var g registryapi.Grant
			if err := codec.Unmarshal(v, &g); err != nil {
				return registryapi.ErrCorruptState.Wrapf("grant: %v", err)
			}
			info.Grants = append(info.Grants, g)
			return nil
		})
		if err != nil {
			return info, err
		}
	}
	var err error
	info.Active, err = listNodes(r, func(n registryapi.Node) bool { return n.Role == registryapi.RoleGatekeeper && n.Active })
	return info, err
}
