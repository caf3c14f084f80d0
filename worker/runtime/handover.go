package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/worker/lightclient"
)

// retryEvery: blocks between retries of work that failed for a local
// reason (a keystore write) and of handouts still waiting for a public key.
const retryEvery = 10

// keysStep runs after each block's messages: open the handouts now
// checkable, then, for an active gatekeeper, do whatever sends the chain
// state calls for that were not done yet. It is level triggered, so a
// restart or a failed keystore write only delays a send.
func (f *folder) keysStep(b lightclient.Final) {
	if f.ks == nil {
		return
	}
	periodic := b.Height%retryEvery == 0
	if len(f.st.Keys.Pending) > 0 && (f.recorded || periodic) {
		f.retryPending()
	}
	if f.st.Role != registryapi.RoleGatekeeper || !f.st.Registered || !(f.keysDirty || periodic) {
		return
	}
	f.generate(b.Height)
	f.masterHandouts()
	f.clusterSends()
	f.contractSends()
}

// --- attestation of other gatekeepers ---

// onGatekeeperRegistered re-verifies a newly registered gatekeeper's quote
// inside this enclave, so that keys never depend on the validators alone;
// only a gatekeeper that passes is ever sent the master key.
func (f *folder) onGatekeeperRegistered(height int64, ev registryapi.NodeEvent) {
	n := ev.Node
	if f.st.Role != registryapi.RoleGatekeeper || n.Role != registryapi.RoleGatekeeper || bytes.Equal(n.IdentityKey, f.st.Identity) {
		return
	}
	ks := &f.st.Keys
	ks.Attested = dropMember(ks.Attested, n.IdentityKey)
	f.keysDirty = true
	if ev.Kind != "registered" || !n.Active {
		return
	}
	if err := f.checkAttestation(height, ev); err != nil {
		f.log.Warn("a gatekeeper's registration does not verify here: it gets no keys", "height", height, "identity", fmt.Sprintf("%x", n.IdentityKey), "err", err)
		return
	}
	ks.Attested = putMember(ks.Attested, Member{IdentityKey: bytes.Clone(n.IdentityKey), EncryptionKey: bytes.Clone(n.EncryptionKey)})
}

// checkAttestation verifies the quote as the chain did (policy, block
// time) and that its report data binds the node's keys and operator to one
// of the recent blocks before the registration.
func (f *folder) checkAttestation(height int64, ev registryapi.NodeEvent) error {
	n := ev.Node
	if _, err := envelope.ParsePublicKey(envelope.Default, n.EncryptionKey); err != nil {
		return err
	}
	opts := []attest.Option{attest.WithPolicy(f.st.Registry.Policy)}
	if f.st.Registry.Policy.AllowSim {
		opts = append(opts, attest.AllowSim())
	}
	v, err := attest.Verify(ev.Quote, ev.Proof, f.blockTime, opts...)
	if err != nil {
		return err
	}
	recent := f.st.Keys.Recent
	for i := len(recent) - 1; i >= 0; i-- {
		if recent[i].Height >= height {
			continue
		}
		b := identity.Binding{ChainID: f.st.Light.ChainID, AnchorHash: recent[i].Hash, IdentityKey: n.IdentityKey, EncryptionKey: n.EncryptionKey, Operator: n.Operator}
		if b.ReportData() == v.ReportData {
			return nil
		}
	}
	return fmt.Errorf("report data binds these keys to no block among the last %d", len(recent))
}

// --- master key generation and hand-over ---

// generate makes the due generation if this gatekeeper is the designated
// one at block height and the chain has no public for it yet. A secret
// already in the keystore (a replay, a restart) is reused, never replaced.
func (f *folder) generate(height int64) {
	ks := &f.st.Keys
	g := ks.due()
	if _, ok := ks.masterPublic(g); ok || ks.holds(g) {
		return
	}
	if !bytes.Equal(keysapi.Designated(f.st.Registry.activeGatekeepers(), ks.DueSince, height), f.st.Identity) {
		return
	}
	m, ok := f.ks.master(g)
	if !ok {
		m = derive.GenerateMaster()
		if err := f.ks.putMasters([]keysapi.GenerationKey{{Generation: g, Secret: m[:]}}); err != nil {
			f.log.Error("cannot save a new master key generation; will retry", "generation", g, "err", err)
			return
		}
		f.log.Info("generated a master key generation", "generation", g)
	}
	pub, err := masterPublicKey(f.st.Light.ChainID, m)
	if err != nil {
		f.log.Error("cannot derive the master public key", "generation", g, "err", err)
		return
	}
	ks.hold(g)
	if k := sentKey(sentMasterPublic, g); !ks.wasSent(k) {
		f.send(keysapi.TopicMasterPublic, codec.MustMarshal(keysapi.MasterPublic{Generation: g, PublicKey: pub}))
		ks.markSent(k)
	}
}

func masterPublicKey(chainID string, m derive.MasterKey) ([]byte, error) {
	k, err := m.EncryptionKey(chainID)
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}

// masterMatches reports whether the held secret of generation g derives
// the recorded public key.
func (f *folder) masterMatches(g uint32) bool {
	want, ok := f.st.Keys.masterPublic(g)
	m, held := f.ks.master(g)
	if !ok || !held {
		return false
	}
	pub, err := masterPublicKey(f.st.Light.ChainID, m)
	return err == nil && bytes.Equal(pub, want)
}

// masterHandouts seals every held generation to each active gatekeeper
// whose registration verified here and that may lack one of them.
func (f *folder) masterHandouts() {
	ks := &f.st.Keys
	if len(ks.Held) == 0 {
		return
	}
	for _, n := range f.st.Registry.Nodes {
		if !n.Active || n.Role != registryapi.RoleGatekeeper || bytes.Equal(n.IdentityKey, f.st.Identity) {
			continue
		}
		m, ok := findMember(ks.Attested, n.IdentityKey)
		if !ok || !bytes.Equal(m.EncryptionKey, n.EncryptionKey) {
			continue
		}
		if !slices.ContainsFunc(ks.Held, func(g uint32) bool { return f.needsMaster(n.IdentityKey, g) }) {
			continue
		}
		f.handMaster(n)
	}
}

// needsMaster: we did not send generation g to key, and key is not the
// gatekeeper that generated it.
func (f *folder) needsMaster(key []byte, g uint32) bool {
	ks := &f.st.Keys
	if i, ok := ks.masterIndex(g); ok && bytes.Equal(ks.Masters[i].Sender, key) {
		return false
	}
	return !ks.wasSent(sentKey(sentMasterHandout, g, key))
}

func (f *folder) handMaster(n NodeView) {
	ks := &f.st.Keys
	gens := make([]keysapi.GenerationKey, 0, len(ks.Held))
	for _, g := range ks.Held {
		m, ok := f.ks.master(g)
		if !ok {
			f.log.Error("a held master key generation is missing from the keystore", "generation", g)
			return
		}
		gens = append(gens, keysapi.GenerationKey{Generation: g, Secret: m[:]})
	}
	env, err := f.seal(envelope.MasterKeyHandout, n, codec.MustMarshal(gens))
	if err != nil {
		f.log.Error("cannot seal the master key to a gatekeeper", "identity", fmt.Sprintf("%x", n.IdentityKey), "err", err)
		return
	}
	f.send(keysapi.TopicMasterHandout, codec.MustMarshal(keysapi.Handout{Recipient: n.IdentityKey, Envelope: env}))
	for _, g := range ks.Held {
		ks.markSent(sentKey(sentMasterHandout, g, n.IdentityKey))
	}
	f.log.Info("handed the master key to a gatekeeper", "identity", fmt.Sprintf("%x", n.IdentityKey), "generations", ks.Held)
}

// seal seals plain to node n for purpose p, bound to n's identity key. The
// envelope is kept in the keystore, so a replay sends the same bytes.
func (f *folder) seal(p envelope.Purpose, n NodeView, plain []byte) ([]byte, error) {
	id := sha256.New()
	for _, part := range [][]byte{[]byte(p.Name()), n.IdentityKey, n.EncryptionKey, plain} {
		id.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		id.Write(part)
	}
	return f.ks.sealOnce(id.Sum(nil), func() ([]byte, error) {
		return envelope.SealTo(f.st.Light.ChainID, p, envelope.Default, n.EncryptionKey, plain, n.IdentityKey)
	})
}

// --- clusters and contracts ---

// recordedHeld are the generations held whose public the chain recorded.
func (f *folder) recordedHeld() []uint32 {
	var out []uint32
	for _, g := range f.st.Keys.Held {
		if _, ok := f.st.Keys.masterPublic(g); ok {
			out = append(out, g)
		}
	}
	return out
}

func (f *folder) clusterKey(id string, g uint32) (derive.ClusterKey, bool) {
	m, ok := f.ks.master(g)
	if !ok {
		return derive.ClusterKey{}, false
	}
	ck, err := m.Cluster(f.st.Light.ChainID, []byte(id))
	if err != nil {
		f.log.Warn("cannot derive a cluster key", "cluster", id, "err", err)
		return derive.ClusterKey{}, false
	}
	return ck, true
}

// clusterSends publishes each cluster's public key and hands its key to
// each assigned, active worker, per recorded generation held.
func (f *folder) clusterSends() {
	ks := &f.st.Keys
	chainID := f.st.Light.ChainID
	for _, g := range f.recordedHeld() {
		for ci := range ks.Clusters {
			c := &ks.Clusters[ci]
			ck, ok := f.clusterKey(c.ID, g)
			if !ok {
				continue
			}
			if _, rec := c.public(g); !rec && !ks.wasSent(sentKey(sentClusterPublic, g, []byte(c.ID))) {
				k, err := ck.EncryptionKey(chainID)
				if err != nil {
					continue
				}
				f.send(keysapi.TopicClusterPublic, codec.MustMarshal(keysapi.ClusterPublic{Cluster: c.ID, Generation: g, PublicKey: k.PublicKey().Bytes()}))
				ks.markSent(sentKey(sentClusterPublic, g, []byte(c.ID)))
			}
			for _, w := range c.Workers {
				f.handCluster(c.ID, g, ck, w)
			}
		}
	}
}

func (f *folder) handCluster(cluster string, g uint32, ck derive.ClusterKey, w Member) {
	ks := &f.st.Keys
	k := sentKey(sentClusterHandout, g, w.IdentityKey, []byte(cluster))
	if ks.wasSent(k) {
		return
	}
	n, ok := f.st.Registry.activeNode(w.IdentityKey, registryapi.RoleWorker)
	if !ok || !bytes.Equal(n.EncryptionKey, w.EncryptionKey) {
		return
	}
	plain := codec.MustMarshal(keysapi.ClusterSecret{Cluster: cluster, Generation: g, Secret: ck[:]})
	env, err := f.seal(envelope.ClusterKeyHandout, n, plain)
	if err != nil {
		f.log.Warn("cannot seal a cluster key to a worker", "cluster", cluster, "identity", fmt.Sprintf("%x", n.IdentityKey), "err", err)
		return
	}
	f.send(keysapi.TopicClusterHandout, codec.MustMarshal(keysapi.Handout{Recipient: n.IdentityKey, Cluster: cluster, Envelope: env}))
	ks.markSent(k)
}

// contractSends answers contract requests with the public key of the
// newest recorded generation, once that generation is held.
func (f *folder) contractSends() {
	ks := &f.st.Keys
	g := ks.newestMaster()
	if g == 0 || !ks.holds(g) || len(ks.Contracts) == 0 {
		return
	}
	left := ks.Contracts[:0]
	for _, req := range ks.Contracts {
		if !f.contractSend(g, req) {
			left = append(left, req)
		}
	}
	ks.Contracts = slices.Clip(left)
	if len(ks.Contracts) == 0 {
		ks.Contracts = nil
	}
}

// contractSend reports whether the request is done with (answered now or
// before, or unanswerable).
func (f *folder) contractSend(g uint32, req keysapi.ContractEvent) bool {
	ks := &f.st.Keys
	if _, ok := ks.cluster(req.Cluster); !ok {
		f.log.Warn("a contract key request names an unknown cluster", "cluster", req.Cluster)
		return true
	}
	k := sentKey(sentContractPublic, g, []byte(req.Cluster), req.Contract)
	if ks.wasSent(k) {
		return true
	}
	ck, ok := f.clusterKey(req.Cluster, g)
	if !ok {
		return false
	}
	pub, err := contractPublicKey(f.st.Light.ChainID, ck, req.Contract)
	if err != nil {
		f.log.Warn("cannot derive a contract key", "cluster", req.Cluster, "err", err)
		return true
	}
	f.send(keysapi.TopicContractPublic, codec.MustMarshal(keysapi.ContractPublic{Cluster: req.Cluster, Contract: req.Contract, Generation: g, PublicKey: pub}))
	ks.markSent(k)
	return true
}

func contractPublicKey(chainID string, ck derive.ClusterKey, contract []byte) ([]byte, error) {
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

// --- receiving handouts ---

// receive takes a handout addressed to this node: open it now if the
// public keys it must match are recorded, else keep it sealed for later.
func (f *folder) receive(topic string, sender []byte, h keysapi.Handout) {
	want := registryapi.RoleGatekeeper
	if topic == keysapi.TopicClusterHandout {
		want = registryapi.RoleWorker
	}
	if f.ks == nil || f.enc == nil || f.st.Role != want {
		return
	}
	p := PendingHandout{Topic: topic, Sender: bytes.Clone(sender), Handout: h}
	if f.tryHandout(p) {
		return
	}
	ks := &f.st.Keys
	if len(ks.Pending) >= MaxPendingHandouts {
		f.log.Warn("too many handouts waiting for their public keys; dropping the oldest")
		ks.Pending = slices.Delete(ks.Pending, 0, 1)
	}
	ks.Pending = append(ks.Pending, p)
}

func (f *folder) retryPending() {
	ks := &f.st.Keys
	var left []PendingHandout
	for _, p := range ks.Pending {
		if !f.tryHandout(p) {
			left = append(left, p)
		}
	}
	ks.Pending = left
}

// tryHandout reports whether the handout is done with: accepted, or
// refused for good. False: keep it until its public keys are recorded.
func (f *folder) tryHandout(p PendingHandout) bool {
	if p.Topic == keysapi.TopicClusterHandout {
		return f.tryClusterHandout(p.Handout)
	}
	return f.tryMasterHandout(p.Sender, p.Handout)
}

func (f *folder) tryMasterHandout(sender []byte, h keysapi.Handout) bool {
	plain, err := envelope.Open(f.st.Light.ChainID, envelope.MasterKeyHandout, f.enc, h.Envelope, f.st.Identity)
	if err != nil {
		f.log.Warn("a master key handout to us does not open", "err", err)
		return true
	}
	var gens []keysapi.GenerationKey
	if err := codec.UnmarshalCanonical(plain, &gens); err != nil {
		f.log.Warn("a master key handout to us is malformed")
		return true
	}
	ks := &f.st.Keys
	for _, gk := range gens {
		if _, ok := ks.masterPublic(gk.Generation); !ok {
			return false
		}
	}
	var valid, accept []keysapi.GenerationKey
	for _, gk := range gens {
		want, _ := ks.masterPublic(gk.Generation)
		if len(gk.Secret) != derive.KeySize {
			continue
		}
		pub, err := masterPublicKey(f.st.Light.ChainID, derive.MasterKey(gk.Secret))
		if err != nil || !bytes.Equal(pub, want) {
			f.log.Warn("a handed master key generation does not match the chain's public key", "generation", gk.Generation)
			continue
		}
		valid = append(valid, gk)
		if !ks.holds(gk.Generation) {
			accept = append(accept, gk)
		}
	}
	if len(accept) > 0 {
		if err := f.ks.putMasters(accept); err != nil {
			f.log.Error("cannot save handed master keys; will retry", "err", err)
			return false
		}
		f.log.Info("received the master key", "generations", len(accept))
	}
	for _, gk := range accept {
		ks.hold(gk.Generation)
	}
	for _, gk := range valid {
		// The sender holds what it sent: nothing to hand back.
		ks.markSent(sentKey(sentMasterHandout, gk.Generation, sender))
	}
	f.keysDirty = f.keysDirty || len(accept) > 0
	return true
}

func (f *folder) tryClusterHandout(h keysapi.Handout) bool {
	plain, err := envelope.Open(f.st.Light.ChainID, envelope.ClusterKeyHandout, f.enc, h.Envelope, f.st.Identity)
	if err != nil {
		f.log.Warn("a cluster key handout to us does not open", "err", err)
		return true
	}
	var cs keysapi.ClusterSecret
	if err := codec.UnmarshalCanonical(plain, &cs); err != nil || cs.Cluster != h.Cluster || len(cs.Secret) != derive.KeySize {
		f.log.Warn("a cluster key handout to us is malformed", "cluster", h.Cluster)
		return true
	}
	ks := &f.st.Keys
	if ks.holdsCluster(cs.Cluster, cs.Generation) {
		return true
	}
	c, ok := ks.cluster(cs.Cluster)
	if !ok {
		return false
	}
	want, ok := c.public(cs.Generation)
	if !ok {
		return false
	}
	k, err := derive.ClusterKey(cs.Secret).EncryptionKey(f.st.Light.ChainID)
	if err != nil || !bytes.Equal(k.PublicKey().Bytes(), want) {
		f.log.Warn("a handed cluster key does not match the chain's public key", "cluster", cs.Cluster, "generation", cs.Generation)
		return true
	}
	if err := f.ks.putCluster(cs); err != nil {
		f.log.Error("cannot save a handed cluster key; will retry", "err", err)
		return false
	}
	ks.holdCluster(cs.Cluster, cs.Generation)
	f.log.Info("received a cluster key", "cluster", cs.Cluster, "generation", cs.Generation)
	return true
}
