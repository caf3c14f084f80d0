// Package keys is the enclave module for the key hierarchy, the enclave's
// side of chain/keys. A gatekeeper generates the master key in its
// designated turn, re-verifies newly registered gatekeepers' quotes and
// hands them the master key, publishes cluster and contract public keys
// and hands cluster keys to workers; a worker receives its cluster key.
// The state keeps public facts only; the secrets are in the sealed
// keystore, which the module reads and asks the loop to write.
package keys

import (
	"bytes"
	"crypto/hpke"
	"fmt"
	"slices"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
)

// Name is the module's name and checkpoint section.
const Name = "keys"

// RetryEvery is how many blocks pass between retries of work that failed
// for a local reason (a keystore write) and of handouts still waiting for
// a public key.
const RetryEvery = 10

// Registry is what the module reads of the registry view.
type Registry interface {
	Registered() bool
	Policy() attest.Policy
	Nodes() []registryview.Node
	ActiveNode(key []byte, role registryapi.Role) (registryview.Node, bool)
	ActiveGatekeepers() [][]byte
}

// Module is the key hierarchy module.
type Module struct {
	reg Registry
	enc hpke.PrivateKey // the node's encryption key: handouts are sealed to it
	st  State

	// Per-block scratch, reset by BeginBlock.
	// dirty: something key management depends on changed this block.
	dirty bool
	// recorded: a public key was recorded this block.
	recorded bool
	// stored: a handout asked for its secrets to be stored this block.
	stored bool
}

var (
	_ module.Follower       = (*Module)(nil)
	_ module.EgressFollower = (*Module)(nil)
)

// New is the module of a node with encryption key enc, reading reg.
func New(reg Registry, enc hpke.PrivateKey) *Module { return &Module{reg: reg, enc: enc} }

// Name implements module.Module.
func (*Module) Name() string { return Name }

// Topics implements module.Module.
func (*Module) Topics() []string {
	return []string{keysapi.TopicRotation, keysapi.TopicCluster, keysapi.TopicContract, keysapi.TopicMasterRecorded, keysapi.TopicClusterRecorded}
}

// Follows implements module.Follower: registrations, to re-verify
// gatekeepers' quotes here before any key goes to them.
func (*Module) Follows() []string { return []string{registryapi.TopicNode} }

// EgressTopics implements module.EgressFollower: handouts, the only keys
// egress addressed to someone.
func (*Module) EgressTopics() []string {
	return []string{keysapi.TopicMasterHandout, keysapi.TopicClusterHandout}
}

// BeginBlock implements module.Module.
func (m *Module) BeginBlock(ctx *module.Context) {
	m.dirty, m.recorded, m.stored = false, false, false
	m.st.noteBlock(ctx.Height, ctx.Hash)
}

// Fold implements module.Module.
func (m *Module) Fold(ctx *module.Context, msg mq.Message) (module.Effects, error) {
	switch msg.Topic {
	case registryapi.TopicNode:
		return module.Effects{}, m.onNode(ctx, msg.Payload)
	case keysapi.TopicRotation:
		return module.Effects{}, m.onRotation(ctx, msg.Payload)
	case keysapi.TopicCluster:
		return module.Effects{}, m.onCluster(msg.Payload)
	case keysapi.TopicContract:
		return module.Effects{}, m.onContract(ctx, msg.Payload)
	case keysapi.TopicMasterRecorded:
		return module.Effects{}, m.onMasterRecorded(ctx, msg.Payload)
	case keysapi.TopicClusterRecorded:
		return module.Effects{}, m.onClusterRecorded(msg.Payload)
	}
	return module.Effects{}, fmt.Errorf("keys: no handler for topic %q", msg.Topic)
}

// FoldEgress implements module.EgressFollower: a handout addressed to us.
// The loop hands over only handouts the chain accepted, and the chain's
// keys module takes them only from gatekeepers and only to an active
// recipient of the right role; what is left to check here is the
// enclave's own concern: that the handout is for this node and not one of
// its own.
func (m *Module) FoldEgress(ctx *module.Context, se mq.SignedEgress) (module.Effects, error) {
	e := se.Egress
	var h keysapi.Handout
	if err := codec.Unmarshal(e.Payload, &h); err != nil {
		return module.Effects{}, err
	}
	if !bytes.Equal(h.Recipient, ctx.Identity) || bytes.Equal(e.Sender, ctx.Identity) {
		return module.Effects{}, nil
	}
	s := m.step(ctx)
	s.receive(e.Topic, e.Sender, h)
	return s.eff, nil
}

// EndBlock implements module.Module: open the handouts now checkable,
// then, for an active gatekeeper, do whatever sends the chain state calls
// for that were not done yet. It stops at the first secret it must ask
// the loop for; the loop stores it and calls EndBlock again.
func (m *Module) EndBlock(ctx *module.Context) module.Effects {
	s := m.step(ctx)
	periodic := ctx.Height%RetryEvery == 0
	if len(m.st.Pending) > 0 && (m.recorded || m.stored || periodic) {
		s.retryPending()
	}
	// A handout waiting for its secrets to be stored is held only on the
	// next round: the sends below must see it held, as the same block
	// would have it.
	if len(s.eff.Secrets) > 0 {
		return s.eff
	}
	if ctx.Role != registryapi.RoleGatekeeper || !m.reg.Registered() || !(m.dirty || periodic) {
		return s.eff
	}
	for _, send := range []func(){s.generate, s.masterHandouts, s.clusterSends, s.contractSends} {
		if send(); s.stopped {
			break
		}
	}
	return s.eff
}

// MarshalState implements module.Module.
func (m *Module) MarshalState() []byte { return codec.MustMarshal(m.st) }

// UnmarshalState implements module.Module.
func (m *Module) UnmarshalState(b []byte) error {
	var st State
	if err := codec.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("keys state: %w", err)
	}
	m.st = st
	return nil
}

// --- ingress ---

func (m *Module) onRotation(ctx *module.Context, payload []byte) error {
	var ev keysapi.Rotation
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Generation > m.st.Rotation {
		m.st.Rotation, m.st.DueSince = ev.Generation, ctx.Height
	}
	m.dirty = true
	return nil
}

func (m *Module) onCluster(payload []byte) error {
	var ev keysapi.ClusterEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Cluster == "" {
		return fmt.Errorf("cluster event without a cluster id")
	}
	st := &m.st
	if i, ok := st.clusterIndex(ev.Cluster); !ok {
		st.Clusters = slices.Insert(st.Clusters, i, ClusterView{ID: ev.Cluster})
	}
	if len(ev.Worker) > 0 {
		// A worker is in at most one cluster: leave the others.
		for i := range st.Clusters {
			st.Clusters[i].Workers = dropMember(st.Clusters[i].Workers, ev.Worker)
		}
		c, _ := st.cluster(ev.Cluster)
		c.Workers = putMember(c.Workers, Member{IdentityKey: bytes.Clone(ev.Worker), EncryptionKey: bytes.Clone(ev.EncryptionKey)})
	}
	m.dirty = true
	return nil
}

func (m *Module) onContract(ctx *module.Context, payload []byte) error {
	var ev keysapi.ContractEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Cluster == "" || len(ev.Contract) == 0 {
		return fmt.Errorf("contract event without a cluster or contract id")
	}
	if ctx.Role != registryapi.RoleGatekeeper {
		return nil
	}
	for _, c := range m.st.Contracts {
		if c.Cluster == ev.Cluster && bytes.Equal(c.Contract, ev.Contract) {
			return nil
		}
	}
	m.st.Contracts = append(m.st.Contracts, ev)
	m.dirty = true
	return nil
}

// onMasterRecorded records the master public the chain recorded. The
// chain applied its rules (sender an active gatekeeper, the pending
// generation, the first key wins, a valid key); this is the fact.
func (m *Module) onMasterRecorded(ctx *module.Context, payload []byte) error {
	var ev keysapi.MasterRecorded
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	if ev.Generation == 0 || len(ev.PublicKey) == 0 {
		return fmt.Errorf("master recorded without a generation or key")
	}
	st := &m.st
	i, ok := st.masterIndex(ev.Generation)
	if ok {
		return nil // the chain records a generation once
	}
	st.Masters = slices.Insert(st.Masters, i, RecordedMaster{Generation: ev.Generation, PublicKey: bytes.Clone(ev.PublicKey), Sender: bytes.Clone(ev.Sender)})
	m.dirty, m.recorded = true, true
	if st.holds(ev.Generation) && !m.masterMatches(ctx, ev.Generation) {
		// Another gatekeeper's generation won a race: ours is not the
		// network's, it will come by hand-over.
		st.unhold(ev.Generation)
		ctx.Log.Warn("the chain recorded another master key for a generation we generated", "generation", ev.Generation)
	}
	return nil
}

// onClusterRecorded records a cluster public the chain recorded.
func (m *Module) onClusterRecorded(payload []byte) error {
	var cp keysapi.ClusterPublic
	if err := codec.Unmarshal(payload, &cp); err != nil {
		return err
	}
	c, ok := m.st.cluster(cp.Cluster)
	if !ok {
		return fmt.Errorf("cluster %q recorded before it was created", cp.Cluster)
	}
	i, ok := c.publicIndex(cp.Generation)
	if ok {
		return nil
	}
	c.Publics = slices.Insert(c.Publics, i, GenerationPublic{Generation: cp.Generation, PublicKey: bytes.Clone(cp.PublicKey)})
	m.dirty, m.recorded = true, true
	return nil
}
