package enclave

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"log/slog"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave/keystore"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/outbox"
	"github.com/phala-go/phala/worker/lightclient"
)

// maxEndBlockRounds bounds how often one module's end-of-block step runs
// again in one block after asking for secrets. Each round stores at least
// one secret; a module still asking after this many finishes its work in
// a later block (its steps are level triggered).
const maxEndBlockRounds = 1024

// Secrets is the keystore as the machine uses it.
type Secrets interface {
	keystore.Reader
	Apply(writes []keystore.Write) error
}

// MachineConfig builds a Machine.
type MachineConfig struct {
	ChainID string
	// Key is the node's identity key: egress is signed with it.
	Key  ed25519.PrivateKey
	Role registryapi.Role
	// Modules fold in this order; their end-of-block steps run in it too.
	Modules []module.Module
	Secrets Secrets
	Log     *slog.Logger
}

// Machine folds verified blocks through the modules: it routes each
// message to the module owning its topic, runs the end-of-block steps and
// applies the effects they return. It does no verification (the loop does,
// before) and writes nothing but the keystore.
//
// Durability order, per step (one message folded into one module, or one
// round of one module's end-of-block step):
//  1. the step's secret writes are sealed into the keystore and synced;
//  2. the step's egress is signed and queued in the outbox.
//
// A secret is therefore on disk before any message that could reveal it is
// queued; a failed write drops nothing (a step's egress never depends on
// its own writes) and the module asks again later. The outbox and the
// modules' state reach disk in the next checkpoint, which comes after the
// whole batch; a crash before it replays the blocks, and the keystore
// makes the replay send the same bytes.
type Machine struct {
	cfg      MachineConfig
	id       ed25519.PublicKey
	routes   module.Routes
	outbox   outbox.Outbox
	counters Counters
}

// NewMachine checks that every topic has one owner and starts with an
// empty outbox.
func NewMachine(cfg MachineConfig) (*Machine, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize || cfg.Secrets == nil {
		return nil, ErrBadRequest.Wrapf("a machine needs an identity key and a keystore")
	}
	routes, err := module.NewRoutes(cfg.Modules, mq.TopicEgress)
	if err != nil {
		return nil, ErrModules.Wrapf("%v", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Machine{cfg: cfg, id: cfg.Key.Public().(ed25519.PublicKey), routes: routes, outbox: outbox.New()}, nil
}

// Block folds one final block: begin-block steps, its messages in order,
// then the end-of-block steps. It cannot fail: a message whose payload
// does not decode is counted, logged and skipped, so the fold never stops
// half way through a block.
func (m *Machine) Block(b lightclient.Final) {
	ctx := &module.Context{
		ChainID: m.cfg.ChainID, Identity: m.id, Role: m.cfg.Role, Height: b.Height, Hash: b.Hash, Time: b.Time,
		Secrets: m.cfg.Secrets, Outbox: &m.outbox, Log: m.cfg.Log,
	}
	for _, mod := range m.cfg.Modules {
		mod.BeginBlock(ctx)
	}
	for i, msg := range b.Messages {
		if err := m.route(ctx, msg); err != nil {
			m.counters.Malformed++
			m.cfg.Log.Warn("skipped a malformed message", "height", b.Height, "index", i, "topic", msg.Topic, "err", err)
		}
	}
	for _, mod := range m.cfg.Modules {
		m.endBlock(ctx, mod)
	}
}

// route hands a message to its owner, then to its followers if the owner
// took it. The loop itself owns the republication of egress.
func (m *Machine) route(ctx *module.Context, msg mq.Message) error {
	if msg.Topic == mq.TopicEgress {
		return m.egress(ctx, msg.Payload)
	}
	owner, ok := m.routes.Owner[msg.Topic]
	if !ok {
		m.counters.UnknownTopics++
		return nil
	}
	if err := m.fold(ctx, owner, msg); err != nil {
		return err
	}
	for _, f := range m.routes.Followers[msg.Topic] {
		if err := m.fold(ctx, f, msg); err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
	}
	return nil
}

func (m *Machine) fold(ctx *module.Context, mod module.Module, msg mq.Message) error {
	eff, err := mod.Fold(ctx, msg)
	if err != nil {
		return err
	}
	m.apply(mod, eff)
	return nil
}

// egress folds the chain's republication of a sequenced egress message.
// One of ours confirms it and everything before it whatever the outcome:
// a refused message used up its sequence number too. Only what the
// topic's chain module accepted goes on to the modules following the
// topic, so no module re-derives the chain's rules or can forget the flag.
func (m *Machine) egress(ctx *module.Context, payload []byte) error {
	r, err := mq.DecodeRepublished(payload)
	if err != nil {
		return err
	}
	se := r.Egress
	if bytes.Equal(se.Egress.Sender, m.id) {
		m.confirm(r)
	}
	if r.Outcome != mq.OutcomeAccepted {
		return nil
	}
	for _, f := range m.routes.Egress[se.Egress.Topic] {
		eff, err := f.FoldEgress(ctx, se)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		m.apply(f, eff)
	}
	return nil
}

// confirm drops one of our messages from the outbox. A refusal is logged:
// the chain thinks otherwise than this enclave about something, and only
// the chain's events say why.
func (m *Machine) confirm(r mq.Republished) {
	m.outbox.Confirm(r.Egress, m.cfg.Log)
	if r.Outcome == mq.OutcomeRefused {
		e := r.Egress.Egress
		m.cfg.Log.Warn("the chain refused an egress message of ours (see its mq.egress_rejected event)", "seq", e.Seq, "topic", e.Topic)
	}
}

// endBlock runs a module's end-of-block step, again after each round that
// stored the secrets it asked for.
func (m *Machine) endBlock(ctx *module.Context, mod module.Module) {
	for range maxEndBlockRounds {
		eff := mod.EndBlock(ctx)
		if stored := m.apply(mod, eff); len(eff.Secrets) == 0 || !stored {
			return
		}
	}
	m.cfg.Log.Error("a module kept asking for secrets; the rest waits for a later block", "module", mod.Name(), "height", ctx.Height)
}

// apply carries out one step's effects in the durability order (see
// Machine) and reports whether its secrets were stored.
func (m *Machine) apply(mod module.Module, eff module.Effects) bool {
	stored := true
	if len(eff.Secrets) > 0 {
		if err := m.cfg.Secrets.Apply(eff.Secrets); err != nil {
			m.cfg.Log.Error("cannot save secrets to the keystore; will retry", "module", mod.Name(), "err", err)
			stored = false
		}
	}
	for _, e := range eff.Egress {
		m.outbox.Send(m.cfg.ChainID, m.cfg.Key, e.Topic, e.Payload)
	}
	return stored
}

// State is the machine's state as of light: the loop's own part (outbox,
// counters) and the modules' sections.
func (m *Machine) State(light lightclient.State) State {
	return State{
		Version: StateVersion, Identity: m.id, Role: m.cfg.Role, Light: light,
		Outbox: m.outbox, Counters: m.counters, Modules: m.Sections(),
	}
}

// Counters are the counts of messages the machine did not act on.
func (m *Machine) Counters() Counters { return m.counters }

// Pending is the egress the chain has not confirmed, in order.
func (m *Machine) Pending() []mq.SignedEgress { return m.outbox.Copy() }

// Sections are the modules' state sections, in module order.
func (m *Machine) Sections() []Section {
	out := make([]Section, len(m.cfg.Modules))
	for i, mod := range m.cfg.Modules {
		out[i] = Section{Name: mod.Name(), State: mod.MarshalState()}
	}
	return out
}

// restore replaces the machine's state with st's. The sections must be
// the modules', in order; on error the machine may be half restored and
// must not be used.
func (m *Machine) restore(st *State) error {
	if len(st.Modules) != len(m.cfg.Modules) {
		return fmt.Errorf("%d module sections, this enclave has %d modules", len(st.Modules), len(m.cfg.Modules))
	}
	for i, mod := range m.cfg.Modules {
		sec := st.Modules[i]
		if sec.Name != mod.Name() {
			return fmt.Errorf("section %d is %q, want %q", i, sec.Name, mod.Name())
		}
		if err := mod.UnmarshalState(sec.State); err != nil {
			return err
		}
	}
	m.outbox, m.counters = st.Outbox, st.Counters
	return nil
}
