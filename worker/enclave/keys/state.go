package keys

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
)

// RecentHashes is how many recent block hashes the state keeps, to
// recompute the report data of a registration anchored at one of them.
const RecentHashes = 256

// MaxPendingHandouts bounds the handouts addressed to us kept while the
// public keys they must match are not recorded yet.
const MaxPendingHandouts = 64

// State is the public side of key management, folded from verified
// ingress: which keys the chain recorded, which this enclave holds (the
// secrets are in the sealed keystore, never here), and what it already
// sent.
type State struct {
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
	// match to be recorded, or for their secrets to be stored.
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

func (s *State) wasSent(k []byte) bool {
	_, ok := slices.BinarySearchFunc(s.Sent, k, bytes.Compare)
	return ok
}

func (s *State) markSent(k []byte) {
	if i, ok := slices.BinarySearchFunc(s.Sent, k, bytes.Compare); !ok {
		s.Sent = slices.Insert(s.Sent, i, k)
	}
}

// masterIndex finds generation g in the sorted Masters: its index, or
// where it would be inserted.
func (s *State) masterIndex(g uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Masters, g, func(m RecordedMaster, g uint32) int { return cmp.Compare(m.Generation, g) })
}

// masterPublic returns the recorded public key of generation g.
func (s *State) masterPublic(g uint32) ([]byte, bool) {
	i, ok := s.masterIndex(g)
	if !ok {
		return nil, false
	}
	return s.Masters[i].PublicKey, true
}

// newestMaster is the newest recorded generation (0: none).
func (s *State) newestMaster() uint32 {
	if len(s.Masters) == 0 {
		return 0
	}
	return s.Masters[len(s.Masters)-1].Generation
}

// due is the generation that should exist next: 1 while none is recorded,
// else the newest a rotation asked for.
func (s *State) due() uint32 { return max(s.Rotation, 1) }

func (s *State) holds(g uint32) bool {
	_, ok := slices.BinarySearch(s.Held, g)
	return ok
}

func (s *State) hold(g uint32) {
	if i, ok := slices.BinarySearch(s.Held, g); !ok {
		s.Held = slices.Insert(s.Held, i, g)
	}
}

func (s *State) unhold(g uint32) {
	if i, ok := slices.BinarySearch(s.Held, g); ok {
		s.Held = slices.Delete(s.Held, i, i+1)
	}
	if len(s.Held) == 0 {
		s.Held = nil
	}
}

func (s *State) clusterIndex(id string) (int, bool) {
	return slices.BinarySearchFunc(s.Clusters, id, func(c ClusterView, id string) int { return cmp.Compare(c.ID, id) })
}

func (s *State) cluster(id string) (*ClusterView, bool) {
	i, ok := s.clusterIndex(id)
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

func (s *State) holdsCluster(c string, g uint32) bool {
	_, ok := slices.BinarySearchFunc(s.HeldClusters, ClusterGen{Cluster: c, Generation: g}, compareClusterGen)
	return ok
}

func (s *State) holdCluster(c string, g uint32) {
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
func (s *State) noteBlock(height int64, hash []byte) {
	if len(hash) == 0 {
		return
	}
	s.Recent = append(s.Recent, BlockRef{Height: height, Hash: bytes.Clone(hash)})
	if n := len(s.Recent) - RecentHashes; n > 0 {
		s.Recent = slices.Delete(s.Recent, 0, n)
	}
}
