package registryview

import (
	"bytes"
	"slices"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
)

// node returns the index of key in Nodes and whether it is there.
func (s *State) node(key []byte) (int, bool) {
	return slices.BinarySearchFunc(s.Nodes, key, func(n Node, k []byte) int { return bytes.Compare(n.IdentityKey, k) })
}

// putNode inserts or replaces a node, keeping Nodes sorted.
func (s *State) putNode(n Node) {
	i, found := s.node(n.IdentityKey)
	if found {
		s.Nodes[i] = n
		return
	}
	s.Nodes = slices.Insert(s.Nodes, i, n)
}

// setGrant adds or removes a gatekeeper grant. Grants are kept sorted by
// their canonical encoding so the state hash does not depend on the order
// of events that add and remove them.
func (s *State) setGrant(g registryapi.Grant, allowed bool) {
	enc := codec.MustMarshal(g)
	i, found := slices.BinarySearchFunc(s.Grants, enc, func(x registryapi.Grant, k []byte) int {
		return bytes.Compare(codec.MustMarshal(x), k)
	})
	switch {
	case allowed && !found:
		s.Grants = slices.Insert(s.Grants, i, g)
	case !allowed && found:
		s.Grants = slices.Delete(s.Grants, i, i+1)
	}
}
