// Package registryview is the enclave module that keeps a copy of the
// chain's registry (policy, gatekeeper grants, nodes), folded only from
// verified ingress, together with this node's own registration and its
// heartbeats.
//
// Heartbeats also carry a computing worker's answers to the chain's
// challenges (registryapi.Heartbeat.Answers): the rewards module decides
// what is owed and the view sends a heartbeat with it in the same block,
// not at the next multiple of HeartbeatEvery.
//
// Heartbeats live here, not in a module of their own: the heartbeat is the
// registry's egress topic, it starts with this node's registration (a
// registry event) and the chain's republication of heartbeats is what
// updates the nodes' liveness in this view. A separate module would have
// to follow the registry's node topic only to learn that one fact.
package registryview

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave/module"
)

// Name is the module's name and checkpoint section.
const Name = "registry"

// HeartbeatEvery is how often (in blocks) a registered, active enclave
// says it is alive: at every height that is a multiple of it.
const HeartbeatEvery = 20

// State is the module's checkpointed state.
type State struct {
	_      struct{} `cbor:",toarray"`
	Policy attest.Policy
	// Grants are the allowed gatekeepers, in canonical CBOR order.
	Grants []registryapi.Grant
	// Nodes are sorted by identity key.
	Nodes []Node
	// Registered: this node has seen itself registered and active.
	Registered bool
}

// Node is what the view keeps of a registered node.
type Node struct {
	_             struct{} `cbor:",toarray"`
	IdentityKey   []byte
	Role          registryapi.Role
	Active        bool
	EncryptionKey []byte
	LastHeartbeat int64
}

// Answers is where the view takes the challenge answers its heartbeats
// carry: the rewards module.
type Answers interface {
	// TakeAnswers hands over up to max answers owed, oldest first; they
	// are the view's to send from then on.
	TakeAnswers(max int) []computeapi.Answer
}

// Module is the registry view.
type Module struct {
	st      State
	answers Answers
	// heartbeatSent is set when the block being folded already produced a
	// heartbeat, so a registration on a multiple of HeartbeatEvery sends one.
	heartbeatSent bool
}

var _ module.EgressFollower = (*Module)(nil)

// New starts the view from the registry's genesis section.
func New(g registryapi.Genesis) *Module {
	m := &Module{st: State{Policy: g.Policy}}
	for _, gr := range g.Gatekeepers {
		m.st.setGrant(gr, true)
	}
	return m
}

// AnswerFrom makes the view's heartbeats carry the answers a takes.
func (m *Module) AnswerFrom(a Answers) { m.answers = a }

// Name implements module.Module.
func (*Module) Name() string { return Name }

// Topics implements module.Module.
func (*Module) Topics() []string {
	return []string{registryapi.TopicNode, registryapi.TopicPolicy, registryapi.TopicGatekeeper}
}

// EgressTopics implements module.EgressFollower.
func (*Module) EgressTopics() []string { return []string{registryapi.TopicHeartbeat} }

// BeginBlock implements module.Module.
func (m *Module) BeginBlock(*module.Context) { m.heartbeatSent = false }

// Fold implements module.Module.
func (m *Module) Fold(ctx *module.Context, msg mq.Message) (module.Effects, error) {
	switch msg.Topic {
	case registryapi.TopicNode:
		return m.onNode(ctx, msg.Payload)
	case registryapi.TopicPolicy:
		return module.Effects{}, m.onPolicy(msg.Payload)
	case registryapi.TopicGatekeeper:
		return module.Effects{}, m.onGatekeeper(msg.Payload)
	}
	return module.Effects{}, fmt.Errorf("registry view: no handler for topic %q", msg.Topic)
}

// EndBlock implements module.Module: a heartbeat with the answers owed,
// if any, else the periodic heartbeat.
func (m *Module) EndBlock(ctx *module.Context) module.Effects {
	var eff module.Effects
	if !m.st.Registered {
		return eff
	}
	if m.answers != nil {
		if as := m.answers.TakeAnswers(computeapi.MaxAnswers); len(as) > 0 {
			// Answers cannot wait for the heartbeat in the outbox: each
			// has a window. Two heartbeats in flight are fine, the chain
			// takes them in sequence order.
			m.heartbeatSent = true
			eff.Send(registryapi.TopicHeartbeat, codec.MustMarshal(registryapi.Heartbeat{Height: ctx.Height, Answers: as}))
			return eff
		}
	}
	if !m.heartbeatSent && ctx.Height%HeartbeatEvery == 0 {
		m.heartbeat(ctx, &eff)
	}
	return eff
}

// FoldEgress implements module.EgressFollower: the loop hands over only
// heartbeats the chain's registry accepted, so the heartbeat's height is
// the sender's last heartbeat as the chain recorded it; the registry's
// rules (no stale or future heartbeat) are not applied again here.
func (m *Module) FoldEgress(_ *module.Context, se mq.SignedEgress) (module.Effects, error) {
	var hb registryapi.Heartbeat
	if err := codec.Unmarshal(se.Egress.Payload, &hb); err != nil {
		return module.Effects{}, fmt.Errorf("registry view: accepted heartbeat: %w", err)
	}
	if i, ok := m.st.node(se.Egress.Sender); ok {
		m.st.Nodes[i].LastHeartbeat = hb.Height
	}
	return module.Effects{}, nil
}

func (m *Module) onNode(ctx *module.Context, payload []byte) (module.Effects, error) {
	var eff module.Effects
	var ev registryapi.NodeEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return eff, err
	}
	n := ev.Node
	if len(n.IdentityKey) == 0 {
		return eff, fmt.Errorf("node event without an identity key")
	}
	// The event carries the node as the chain stored it, last heartbeat
	// included (a new registration starts it again), and the view folds
	// the chain's messages in the chain's order: it is the fact.
	m.st.putNode(Node{IdentityKey: n.IdentityKey, Role: n.Role, Active: n.Active, EncryptionKey: n.EncryptionKey, LastHeartbeat: n.LastHeartbeat})
	if !bytes.Equal(n.IdentityKey, ctx.Identity) {
		return eff, nil
	}
	switch ev.Kind {
	case "registered":
		m.st.Registered = n.Active
		ctx.Log.Info("this runtime is registered", "height", ctx.Height, "role", n.Role, "active", n.Active)
		if n.Active {
			m.heartbeat(ctx, &eff)
		}
	case "deactivated":
		m.st.Registered = false
		ctx.Log.Warn("this runtime was deactivated", "height", ctx.Height, "reason", ev.Reason)
	default:
		m.st.Registered = n.Active
	}
	return eff, nil
}

func (m *Module) onPolicy(payload []byte) error {
	var ev registryapi.PolicyEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	m.st.Policy = ev.Policy
	return nil
}

func (m *Module) onGatekeeper(payload []byte) error {
	var ev registryapi.GatekeeperEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	m.st.setGrant(ev.Grant, ev.Allowed)
	if len(m.st.Grants) == 0 {
		m.st.Grants = nil
	}
	return nil
}

// heartbeat queues a heartbeat unless one is still waiting for the chain.
// The registry keeps only a node's newest, so while the relay cannot
// submit (a node that refuses, an operator out of fees) the outbox holds
// one heartbeat, not one more every HeartbeatEvery blocks.
func (m *Module) heartbeat(ctx *module.Context, eff *module.Effects) {
	m.heartbeatSent = true
	if ctx.Outbox.Waiting(registryapi.TopicHeartbeat) {
		return
	}
	eff.Send(registryapi.TopicHeartbeat, codec.MustMarshal(registryapi.Heartbeat{Height: ctx.Height}))
}

// MarshalState implements module.Module.
func (m *Module) MarshalState() []byte { return codec.MustMarshal(m.st) }

// UnmarshalState implements module.Module.
func (m *Module) UnmarshalState(b []byte) error {
	var st State
	if err := codec.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("registry view state: %w", err)
	}
	m.st = st
	return nil
}

// --- what other modules and the loop read ---

// Registered reports whether this node has seen itself registered and
// active.
func (m *Module) Registered() bool { return m.st.Registered }

// Policy is the registry's attestation policy.
func (m *Module) Policy() attest.Policy { return m.st.Policy }

// Grants are the allowed gatekeepers.
func (m *Module) Grants() []registryapi.Grant { return slices.Clone(m.st.Grants) }

// Nodes are the registered nodes, sorted by identity key. Callers must not
// change them.
func (m *Module) Nodes() []Node { return m.st.Nodes }

// Node returns the node with identity key, if registered.
func (m *Module) Node(key []byte) (Node, bool) {
	i, ok := m.st.node(key)
	if !ok {
		return Node{}, false
	}
	return m.st.Nodes[i], true
}

// ActiveNode returns the node if it is active with role.
func (m *Module) ActiveNode(key []byte, role registryapi.Role) (Node, bool) {
	n, ok := m.Node(key)
	if !ok || !n.Active || n.Role != role {
		return Node{}, false
	}
	return n, true
}

// ActiveGatekeepers are the identity keys of the active gatekeepers.
func (m *Module) ActiveGatekeepers() [][]byte {
	var out [][]byte
	for _, n := range m.st.Nodes {
		if n.Active && n.Role == registryapi.RoleGatekeeper {
			out = append(out, n.IdentityKey)
		}
	}
	return out
}
