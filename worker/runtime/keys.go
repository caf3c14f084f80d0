package runtime

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/mq"
)

// RecentHashes is how many recent block hashes the state keeps, to
// recompute the report data of a registration anchored at one of them.
const RecentHashes = 256

// MaxPendingHandouts bounds the handouts addressed to us kept while the
// public keys they must match are not recorded yet.
const MaxPendingHandouts = 64

// KeyState is the public side of key management, folded from verified
// ingress: which keys the chain recorded, which this enclave holds (the
// secrets are in the sealed keystore, never here), and what it already sent.
type KeyState struct {
	_ struct{} `cbor:",toarray"`
	// Recent are the hashes of the last RecentHashes blocks, oldest first.
	Recent []BlockRef
	// Masters are the master publics the chain recorded, by generation.
	Masters []RecordedMaster
	// Rotation is the newest generation a rotation event asked for.
	Rotation uint32
	// DueSince is the block of that rotation event (0 for generation 1,
	// due from genesis): the designated gatekeeper's turns count from it.
	DueSince int64
	// Held are the master generations this enclave holds (gatekeepers).
	Held []uint32
	// Attested are the gatekeepers whose registration quote passed this
	// enclave's own verification, by identity key.
	Attested []Member
	// Clusters are the clusters created on chain, by id.
	Clusters []ClusterView
	// HeldClusters are the cluster keys this enclave holds (workers).
	HeldClusters []ClusterGen
	// Contracts are contract key requests not yet answered.
	Contracts []keysapi.ContractEvent
	// Pending are handouts to us waiting for the public keys they must
	// match to be recorded.
	Pending []PendingHandout
	// Sent are the sends done (sentKey), sorted: each is done once.
	Sent [][]byte
}

// RecordedMaster is a master public the chain recorded and who sent it
// (the gatekeeper that generated it holds it: no hand-over back to it).
type RecordedMaster struct {
	_          struct{} `cbor:",toarray"`
	Generation uint32
	PublicKey  []byte
	Sender     []byte
}

// BlockRef is one verified block's hash.
type BlockRef struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	Hash   []byte
}

// Member is a node keys are sealed to.
type Member struct {
	_             struct{} `cbor:",toarray"`
	IdentityKey   []byte
	EncryptionKey []byte
}

// ClusterView is a cluster as the chain shows it.
type ClusterView struct {
	_  struct{} `cbor:",toarray"`
	ID string
	// Publics are the recorded public keys, by generation.
	Publics []GenerationPublic
	// Workers are the assigned workers, by identity key.
	Workers []Member
}

// GenerationPublic is a public key of one generation.
type GenerationPublic struct {
	_          struct{} `cbor:",toarray"`
	Generation uint32
	PublicKey  []byte
}

// ClusterGen names one cluster key generation.
type ClusterGen struct {
	_          struct{} `cbor:",toarray"`
	Cluster    string
	Generation uint32
}

// PendingHandout is a handout addressed to us, kept sealed.
type PendingHandout struct {
	_       struct{} `cbor:",toarray"`
	Topic   string
	Sender  []byte
	Handout keysapi.Handout
}

// Kinds of sends, in sent keys.
const (
	sentMasterPublic   byte = 1
	sentMasterHandout  byte = 2
	sentClusterPublic  byte = 3
	sentClusterHandout byte = 4
	sentContractPublic byte = 5
)

// sentKey names one send: kind, generation, then length-prefixed parts.
func sentKey(kind byte, gen uint32, parts ...[]byte) []byte {
	k := binary.BigEndian.AppendUint32([]byte{kind}, gen)
	for _, p := range parts {
		k = binary.BigEndian.AppendUint32(k, uint32(len(p)))
		k = append(k, p...)
	}
	return k
}

func (s *KeyState) wasSent(k []byte) bool {
	_, ok := slices.BinarySearchFunc(s.Sent, k, bytes.Compare)
	return ok
}

func (s *KeyState) markSent(k []byte) {
	if i, ok := slices.BinarySearchFunc(s.Sent, k, bytes.Compare); !ok {
		s.Sent = slices.Insert(s.Sent, i, k)
	}
}

// masterIndex finds generation g in the sorted Masters: its index, or
// where it would be inserted.
func (s *KeyState) masterIndex(g uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Masters, g, func(m RecordedMaster, g uint32) int { return cmp.Compare(m.Generation, g) })
}

// masterPublic returns the recorded public key of generation g.
func (s *KeyState) masterPublic(g uint32) ([]byte, bool) {
	i, ok := s.masterIndex(g)
	if !ok {
		return nil, false
	}
	return s.Masters[i].PublicKey, true
}

// newestMaster is the newest recorded generation (0: none).
func (s *KeyState) newestMaster() uint32 {
	if len(s.Masters) == 0 {
		return 0
	}
	return s.Masters[len(s.Masters)-1].Generation
}

// due is the generation that should exist next: 1 while none is recorded,
// else the newest a rotation asked for.
func (s *KeyState) due() uint32 { return max(s.Rotation, 1) }

func (s *KeyState) holds(g uint32) bool {
	_, ok := slices.BinarySearch(s.Held, g)
	return ok
}

func (s *KeyState) hold(g uint32) {
	if i, ok := slices.BinarySearch(s.Held, g); !ok {
		s.Held = slices.Insert(s.Held, i, g)
	}
}

func (s *KeyState) unhold(g uint32) {
	if i, ok := slices.BinarySearch(s.Held, g); ok {
		s.Held = slices.Delete(s.Held, i, i+1)
	}
	if len(s.Held) == 0 {
		s.Held = nil
	}
}

func (s *KeyState) cluster(id string) (*ClusterView, bool) {
	i, ok := slices.BinarySearchFunc(s.Clusters, id, func(c ClusterView, id string) int { return cmp.Compare(c.ID, id) })
	if !ok {
		return nil, false
	}
	return &s.Clusters[i], true
}

// publicIndex finds generation g in the sorted Publics: its index, or
// where it would be inserted.
func (c *ClusterView) publicIndex(g uint32) (int, bool) {
	return slices.BinarySearchFunc(c.Publics, g, func(p GenerationPublic, g uint32) int { return cmp.Compare(p.Generation, g) })
}

func (c *ClusterView) public(g uint32) ([]byte, bool) {
	i, ok := c.publicIndex(g)
	if !ok {
		return nil, false
	}
	return c.Publics[i].PublicKey, true
}

func (s *KeyState) holdsCluster(c string, g uint32) bool {
	_, ok := slices.BinarySearchFunc(s.HeldClusters, ClusterGen{Cluster: c, Generation: g}, compareClusterGen)
	return ok
}

func (s *KeyState) holdCluster(c string, g uint32) {
	e := ClusterGen{Cluster: c, Generation: g}
	if i, ok := slices.BinarySearchFunc(s.HeldClusters, e, compareClusterGen); !ok {
		s.HeldClusters = slices.Insert(s.HeldClusters, i, e)
	}
}

func compareClusterGen(a, b ClusterGen) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Generation, b.Generation))
}

func compareMember(m Member, key []byte) int { return bytes.Compare(m.IdentityKey, key) }

// putMember inserts or replaces a member, keeping the list sorted.
func putMember(list []Member, m Member) []Member {
	i, ok := slices.BinarySearchFunc(list, m.IdentityKey, compareMember)
	if ok {
		list[i] = m
		return list
	}
	return slices.Insert(list, i, m)
}

func dropMember(list []Member, key []byte) []Member {
	if i, ok := slices.BinarySearchFunc(list, key, compareMember); ok {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

func findMember(list []Member, key []byte) (Member, bool) {
	i, ok := slices.BinarySearchFunc(list, key, compareMember)
	if !ok {
		return Member{}, false
	}
	return list[i], true
}

// noteBlock remembers a verified block's hash in the ring.
func (s *KeyState) noteBlock(height int64, hash []byte) {
	if len(hash) == 0 {
		return
	}
	s.Recent = append(s.Recent, BlockRef{Height: height, Hash: bytes.Clone(hash)})
	if n := len(s.Recent) - RecentHashes; n > 0 {
		s.Recent = slices.Delete(s.Recent, 0, n)
	}
}

// activeGatekeepers are the identity keys of the active gatekeepers in the
// registry view.
func (v *RegistryView) activeGatekeepers() []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, n := range v.Nodes {
		if n.Active && n.Role == registryapi.RoleGatekeeper {
			out = append(out, n.IdentityKey)
		}
	}
	return out
}

// activeNode returns the node if it is active with role.
func (v *RegistryView) activeNode(key []byte, role registryapi.Role) (NodeView, bool) {
	i, ok := v.node(key)
	if !ok || !v.Nodes[i].Active || v.Nodes[i].Role != role {
		return NodeView{}, false
	}
	return v.Nodes[i], true
}

// --- ingress events of the keys module ---

func (f *folder) onRotation(height int64, payload []byte) error {
	var ev keysapi.Rotation
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	ks := &f.st.Keys
	if ev.Generation > ks.Rotation {
		ks.Rotation, ks.DueSince = ev.Generation, height
	}
	f.keysDirty = true
	return nil
}

func (f *folder) onCluster(_ int64, payload []byte) error {
	var ev keysapi.ClusterEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Cluster == "" {
		return fmt.Errorf("cluster event without a cluster id")
	}
	ks := &f.st.Keys
	c, ok := ks.cluster(ev.Cluster)
	if !ok {
		i, _ := slices.BinarySearchFunc(ks.Clusters, ev.Cluster, func(c ClusterView, id string) int { return cmp.Compare(c.ID, id) })
		ks.Clusters = slices.Insert(ks.Clusters, i, ClusterView{ID: ev.Cluster})
		c = &ks.Clusters[i]
	}
	if len(ev.Worker) > 0 {
		// A worker is in at most one cluster: leave the others.
		for i := range ks.Clusters {
			ks.Clusters[i].Workers = dropMember(ks.Clusters[i].Workers, ev.Worker)
		}
		c, _ = ks.cluster(ev.Cluster)
		c.Workers = putMember(c.Workers, Member{IdentityKey: bytes.Clone(ev.Worker), EncryptionKey: bytes.Clone(ev.EncryptionKey)})
	}
	f.keysDirty = true
	return nil
}

func (f *folder) onContract(_ int64, payload []byte) error {
	var ev keysapi.ContractEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Cluster == "" || len(ev.Contract) == 0 {
		return fmt.Errorf("contract event without a cluster or contract id")
	}
	ks := &f.st.Keys
	if f.st.Role == registryapi.RoleGatekeeper {
		for _, c := range ks.Contracts {
			if c.Cluster == ev.Cluster && bytes.Equal(c.Contract, ev.Contract) {
				return nil
			}
		}
		ks.Contracts = append(ks.Contracts, ev)
		f.keysDirty = true
	}
	return nil
}

// --- egress republications on the keys topics ---

// onKeysEgress folds an accepted keys egress. Only what an active
// gatekeeper sent counts: the chain republishes refused messages too, so
// the enclave applies the module's acceptance rules itself.
func (f *folder) onKeysEgress(se mq.SignedEgress) error {
	e := se.Egress
	if _, ok := f.st.Registry.activeNode(e.Sender, registryapi.RoleGatekeeper); !ok {
		return nil
	}
	switch e.Topic {
	case keysapi.TopicMasterPublic:
		var mp keysapi.MasterPublic
		if err := codec.Unmarshal(e.Payload, &mp); err != nil {
			return err
		}
		f.recordMaster(mp, e.Sender)
	case keysapi.TopicClusterPublic:
		var cp keysapi.ClusterPublic
		if err := codec.Unmarshal(e.Payload, &cp); err != nil {
			return err
		}
		f.recordCluster(cp)
	case keysapi.TopicMasterHandout, keysapi.TopicClusterHandout:
		var h keysapi.Handout
		if err := codec.Unmarshal(e.Payload, &h); err != nil {
			return err
		}
		if bytes.Equal(h.Recipient, f.st.Identity) && !bytes.Equal(e.Sender, f.st.Identity) {
			f.receive(e.Topic, e.Sender, h)
		}
	}
	return nil
}

// recordMaster records the first public of the due generation.
func (f *folder) recordMaster(mp keysapi.MasterPublic, sender []byte) {
	ks := &f.st.Keys
	if _, ok := ks.masterPublic(mp.Generation); ok || mp.Generation != ks.due() {
		return
	}
	if _, err := envelope.ParsePublicKey(envelope.Default, mp.PublicKey); err != nil {
		return
	}
	i, _ := ks.masterIndex(mp.Generation)
	ks.Masters = slices.Insert(ks.Masters, i, RecordedMaster{Generation: mp.Generation, PublicKey: bytes.Clone(mp.PublicKey), Sender: bytes.Clone(sender)})
	f.keysDirty, f.recorded = true, true
	if ks.holds(mp.Generation) && !f.masterMatches(mp.Generation) {
		// Another gatekeeper's generation won a race: ours is not the
		// network's, it will come by hand-over.
		ks.unhold(mp.Generation)
		f.log.Warn("the chain recorded another master key for a generation we generated", "generation", mp.Generation)
	}
}

// recordCluster records the first public of a cluster's generation.
func (f *folder) recordCluster(cp keysapi.ClusterPublic) {
	ks := &f.st.Keys
	c, ok := ks.cluster(cp.Cluster)
	if !ok {
		return
	}
	if _, ok := c.public(cp.Generation); ok {
		return
	}
	if _, ok := ks.masterPublic(cp.Generation); !ok {
		return
	}
	if _, err := envelope.ParsePublicKey(envelope.Default, cp.PublicKey); err != nil {
		return
	}
	i, _ := c.publicIndex(cp.Generation)
	c.Publics = slices.Insert(c.Publics, i, GenerationPublic{Generation: cp.Generation, PublicKey: bytes.Clone(cp.PublicKey)})
	f.keysDirty, f.recorded = true, true
}

// KeyStatus is what the runtime shows of its keys: public facts only.
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
	ks := &r.st.Keys
	out := KeyStatus{MasterGenerations: slices.Clone(ks.Held), Clusters: slices.Clone(ks.HeldClusters)}
	for _, m := range ks.Masters {
		out.MasterPublics = append(out.MasterPublics, keysapi.MasterPublic{Generation: m.Generation, PublicKey: bytes.Clone(m.PublicKey)})
	}
	return out
}

// ContractPublicKey derives a contract's public key from the newest
// generation of its cluster's key this runtime holds (a worker of the
// cluster, or a gatekeeper, which derives the cluster key itself).
func (r *Runtime) ContractPublicKey(cluster string, contract []byte) (keysapi.ContractPublic, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ck, g, ok := r.newestClusterKey(cluster)
	if !ok {
		return keysapi.ContractPublic{}, ErrNoKey.Wrapf("no key of cluster %q", cluster)
	}
	pub, err := contractPublicKey(r.st.Light.ChainID, ck, contract)
	if err != nil {
		return keysapi.ContractPublic{}, ErrBadRequest.Wrapf("%v", err)
	}
	return keysapi.ContractPublic{Cluster: cluster, Contract: bytes.Clone(contract), Generation: g, PublicKey: pub}, nil
}

func (r *Runtime) newestClusterKey(cluster string) (derive.ClusterKey, uint32, bool) {
	ks := &r.st.Keys
	for i := len(ks.HeldClusters) - 1; i >= 0; i-- {
		if c := ks.HeldClusters[i]; c.Cluster == cluster {
			ck, ok := r.ks.cluster(cluster, c.Generation)
			return ck, c.Generation, ok
		}
	}
	g := ks.newestMaster()
	if g == 0 || !ks.holds(g) {
		return derive.ClusterKey{}, 0, false
	}
	m, ok := r.ks.master(g)
	if !ok {
		return derive.ClusterKey{}, 0, false
	}
	ck, err := m.Cluster(r.st.Light.ChainID, []byte(cluster))
	return ck, g, err == nil
}
