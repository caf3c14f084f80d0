package keys

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
)

// recordedHeld are the generations held whose public the chain recorded.
func (m *Module) recordedHeld() []uint32 {
	var out []uint32
	for _, g := range m.st.Held {
		if _, ok := m.st.masterPublic(g); ok {
			out = append(out, g)
		}
	}
	return out
}

func (s *step) clusterKey(id string, g uint32) (derive.ClusterKey, bool) {
	m, ok := s.ctx.Secrets.Master(g)
	if !ok {
		return derive.ClusterKey{}, false
	}
	ck, err := m.Cluster(s.ctx.ChainID, []byte(id))
	if err != nil {
		s.ctx.Log.Warn("cannot derive a cluster key", "cluster", id, "err", err)
		return derive.ClusterKey{}, false
	}
	return ck, true
}

// clusterSends publishes each cluster's public key and hands its key to
// each assigned, active worker, per recorded generation held.
func (s *step) clusterSends() {
	st := &s.st
	for _, g := range s.recordedHeld() {
		for ci := range st.Clusters {
			c := &st.Clusters[ci]
			ck, ok := s.clusterKey(c.ID, g)
			if !ok {
				continue
			}
			s.clusterPublic(c, g, ck)
			for _, w := range c.Workers {
				if s.handCluster(c.ID, g, ck, w); s.stopped {
					return
				}
			}
		}
	}
}

func (s *step) clusterPublic(c *ClusterView, g uint32, ck derive.ClusterKey) {
	k := sentKey(sentClusterPublic, g, []byte(c.ID))
	if _, rec := c.public(g); rec || s.st.wasSent(k) {
		return
	}
	pub, err := ck.EncryptionKey(s.ctx.ChainID)
	if err != nil {
		return
	}
	s.eff.Send(keysapi.TopicClusterPublic, codec.MustMarshal(keysapi.ClusterPublic{Cluster: c.ID, Generation: g, PublicKey: pub.PublicKey().Bytes()}))
	s.st.markSent(k)
}

func (s *step) handCluster(cluster string, g uint32, ck derive.ClusterKey, w Member) {
	k := sentKey(sentClusterHandout, g, w.IdentityKey, []byte(cluster))
	if s.st.wasSent(k) {
		return
	}
	n, ok := s.reg.ActiveNode(w.IdentityKey, registryapi.RoleWorker)
	if !ok || !bytes.Equal(n.EncryptionKey, w.EncryptionKey) {
		return
	}
	plain := codec.MustMarshal(keysapi.ClusterSecret{Cluster: cluster, Generation: g, Secret: ck[:]})
	env, err := s.seal(envelope.ClusterKeyHandout, n, plain)
	if err != nil {
		if !s.stopped {
			s.ctx.Log.Warn("cannot seal a cluster key to a worker", "cluster", cluster, "identity", fmt.Sprintf("%x", n.IdentityKey), "err", err)
		}
		return
	}
	s.eff.Send(keysapi.TopicClusterHandout, codec.MustMarshal(keysapi.Handout{Recipient: n.IdentityKey, Cluster: cluster, Envelope: env}))
	s.st.markSent(k)
}

// contractSends answers contract requests with the public key of the
// newest recorded generation, once that generation is held.
func (s *step) contractSends() {
	st := &s.st
	g := st.newestMaster()
	if g == 0 || !st.holds(g) || len(st.Contracts) == 0 {
		return
	}
	left := st.Contracts[:0]
	for _, req := range st.Contracts {
		if !s.contractSend(g, req) {
			left = append(left, req)
		}
	}
	st.Contracts = slices.Clip(left)
	if len(st.Contracts) == 0 {
		st.Contracts = nil
	}
}

// contractSend reports whether the request is done with (answered now or
// before, or unanswerable).
func (s *step) contractSend(g uint32, req keysapi.ContractEvent) bool {
	st := &s.st
	if _, ok := st.cluster(req.Cluster); !ok {
		s.ctx.Log.Warn("a contract key request names an unknown cluster", "cluster", req.Cluster)
		return true
	}
	k := sentKey(sentContractPublic, g, []byte(req.Cluster), req.Contract)
	if st.wasSent(k) {
		return true
	}
	ck, ok := s.clusterKey(req.Cluster, g)
	if !ok {
		return false
	}
	pub, err := ContractPublicKey(s.ctx.ChainID, ck, req.Contract)
	if err != nil {
		s.ctx.Log.Warn("cannot derive a contract key", "cluster", req.Cluster, "err", err)
		return true
	}
	s.eff.Send(keysapi.TopicContractPublic, codec.MustMarshal(keysapi.ContractPublic{Cluster: req.Cluster, Contract: req.Contract, Generation: g, PublicKey: pub}))
	st.markSent(k)
	return true
}

// ContractPublicKey derives a contract's public key from its cluster key.
func ContractPublicKey(chainID string, ck derive.ClusterKey, contract []byte) ([]byte, error) {
	ct, err := ck.Contract(chainID, contract)
	if err != nil {
		return nil, err
	}
	k, err := ct.EncryptionKey(chainID)
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}
