package keys

import (
	"bytes"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/worker/enclave/keystore"
)

// receive takes a handout addressed to this node: accept it now if the
// public keys it must match are recorded and its secrets are stored, else
// keep it sealed for later. Storing is the loop's job: a handout whose
// secrets are not in the keystore yet asks for them and waits; the
// module's end-of-block step accepts it once they are there.
func (s *step) receive(topic string, sender []byte, h keysapi.Handout) {
	want := registryapi.RoleGatekeeper
	if topic == keysapi.TopicClusterHandout {
		want = registryapi.RoleWorker
	}
	if s.enc == nil || s.ctx.Role != want {
		return
	}
	p := PendingHandout{Topic: topic, Sender: bytes.Clone(sender), Handout: h}
	if s.tryHandout(p) {
		return
	}
	st := &s.st
	if len(st.Pending) >= MaxPendingHandouts {
		s.ctx.Log.Warn("too many handouts waiting for their public keys; dropping the oldest")
		st.Pending = slices.Delete(st.Pending, 0, 1)
	}
	st.Pending = append(st.Pending, p)
}

// retryPending tries every waiting handout. Unlike the sends it does not
// stop at a request: storing secrets sends nothing, so the requests of
// several handouts can go to the loop together.
func (s *step) retryPending() {
	var left []PendingHandout
	for _, p := range s.st.Pending {
		if !s.tryHandout(p) {
			left = append(left, p)
		}
	}
	s.st.Pending = left
}

// tryHandout reports whether the handout is done with: accepted, or
// refused for good. False: keep it until its public keys are recorded or
// its secrets stored.
func (s *step) tryHandout(p PendingHandout) bool {
	if p.Topic == keysapi.TopicClusterHandout {
		return s.tryClusterHandout(p.Handout)
	}
	return s.tryMasterHandout(p.Sender, p.Handout)
}

// ask requests a keystore write without stopping the step, and makes the
// end-of-block step retry the handout that needs it.
func (s *step) ask(w keystore.Write) {
	s.eff.Store(w)
	s.stored = true
}

func (s *step) tryMasterHandout(sender []byte, h keysapi.Handout) bool {
	plain, err := envelope.Open(s.ctx.ChainID, envelope.MasterKeyHandout, s.enc, h.Envelope, s.ctx.Identity)
	if err != nil {
		s.ctx.Log.Warn("a master key handout to us does not open", "err", err)
		return true
	}
	var gens []keysapi.GenerationKey
	if err := codec.UnmarshalCanonical(plain, &gens); err != nil {
		s.ctx.Log.Warn("a master key handout to us is malformed")
		return true
	}
	st := &s.st
	for _, gk := range gens {
		if _, ok := st.masterPublic(gk.Generation); !ok {
			return false
		}
	}
	var valid, accept []keysapi.GenerationKey
	for _, gk := range gens {
		want, _ := st.masterPublic(gk.Generation)
		if len(gk.Secret) != derive.KeySize {
			continue
		}
		pub, err := MasterPublicKey(s.ctx.ChainID, derive.MasterKey(gk.Secret))
		if err != nil || !bytes.Equal(pub, want) {
			s.ctx.Log.Warn("a handed master key generation does not match the chain's public key", "generation", gk.Generation)
			continue
		}
		valid = append(valid, gk)
		if !st.holds(gk.Generation) {
			accept = append(accept, gk)
		}
	}
	if missing := s.unstoredMasters(accept); len(missing) > 0 {
		s.ask(keystore.PutMasters{Keys: missing})
		return false
	}
	if len(accept) > 0 {
		s.ctx.Log.Info("received the master key", "generations", len(accept))
	}
	for _, gk := range accept {
		st.hold(gk.Generation)
	}
	for _, gk := range valid {
		// The sender holds what it sent: nothing to hand back.
		st.markSent(sentKey(sentMasterHandout, gk.Generation, sender))
	}
	s.dirty = s.dirty || len(accept) > 0
	return true
}

// unstoredMasters are the generations whose keystore secret is not the
// handed one (absent, or one of ours the chain did not record).
func (s *step) unstoredMasters(gens []keysapi.GenerationKey) []keysapi.GenerationKey {
	var out []keysapi.GenerationKey
	for _, gk := range gens {
		if m, ok := s.ctx.Secrets.Master(gk.Generation); !ok || !bytes.Equal(m[:], gk.Secret) {
			out = append(out, gk)
		}
	}
	return out
}

func (s *step) tryClusterHandout(h keysapi.Handout) bool {
	plain, err := envelope.Open(s.ctx.ChainID, envelope.ClusterKeyHandout, s.enc, h.Envelope, s.ctx.Identity)
	if err != nil {
		s.ctx.Log.Warn("a cluster key handout to us does not open", "err", err)
		return true
	}
	var cs keysapi.ClusterSecret
	if err := codec.UnmarshalCanonical(plain, &cs); err != nil || cs.Cluster != h.Cluster || len(cs.Secret) != derive.KeySize {
		s.ctx.Log.Warn("a cluster key handout to us is malformed", "cluster", h.Cluster)
		return true
	}
	st := &s.st
	if st.holdsCluster(cs.Cluster, cs.Generation) {
		return true
	}
	c, ok := st.cluster(cs.Cluster)
	if !ok {
		return false
	}
	want, ok := c.public(cs.Generation)
	if !ok {
		return false
	}
	k, err := derive.ClusterKey(cs.Secret).EncryptionKey(s.ctx.ChainID)
	if err != nil || !bytes.Equal(k.PublicKey().Bytes(), want) {
		s.ctx.Log.Warn("a handed cluster key does not match the chain's public key", "cluster", cs.Cluster, "generation", cs.Generation)
		return true
	}
	if held, ok := s.ctx.Secrets.Cluster(cs.Cluster, cs.Generation); !ok || !bytes.Equal(held[:], cs.Secret) {
		s.ask(keystore.PutCluster{Secret: cs})
		return false
	}
	st.holdCluster(cs.Cluster, cs.Generation)
	s.ctx.Log.Info("received a cluster key", "cluster", cs.Cluster, "generation", cs.Generation)
	return true
}
