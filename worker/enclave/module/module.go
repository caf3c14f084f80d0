// Package module is the contract between the enclave's loop and its
// modules, the enclave's counterpart of chain/module. A module owns ingress
// topics, folds the verified messages on them into its own state, has a
// step at the end of every block, and contributes a section (canonical
// CBOR) to the sealed checkpoint and to the state hash.
//
// A module never does I/O. Like a raft node's Step and Ready, its steps
// return what must happen outside it (Effects): egress to sign and queue,
// secrets to seal into the keystore. The loop applies them in a fixed
// durability order. A step that needs a secret it does not hold yet asks
// for it and stops; the loop stores it and steps the module again, so no
// state ever depends on a write that did not happen.
package module

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave/keystore"
)

// Module is one part of the enclave's state machine.
type Module interface {
	// Name names the module's checkpoint section and its log lines.
	Name() string
	// Topics are the ingress topics the module owns. Each topic has one
	// owner; two modules claiming one is an error when the loop starts.
	Topics() []string
	// BeginBlock starts a block: per-block scratch is reset here.
	BeginBlock(ctx *Context)
	// Fold applies one verified message on a topic the module owns or
	// follows. An error means the payload was malformed and the module
	// changed nothing; the loop counts it and goes on.
	Fold(ctx *Context, msg mq.Message) (Effects, error)
	// EndBlock runs after the block's messages. It is level triggered: it
	// does what the state calls for and was not done yet, so the loop may
	// call it again in the same block (after storing the secrets it asked
	// for) and a restart only delays work.
	EndBlock(ctx *Context) Effects
	// MarshalState is the module's state section, canonical CBOR.
	MarshalState() []byte
	// UnmarshalState replaces the state with a section MarshalState wrote.
	UnmarshalState(section []byte) error
}

// Follower is a module that also reads messages on topics other modules
// own (the keys module reads registrations to re-verify gatekeepers'
// quotes). The owner folds a message first; followers see it only if the
// owner accepted it.
type Follower interface {
	Module
	Follows() []string
}

// EgressFollower is a module that reads the chain's republication of
// egress (mq.TopicEgress) on some egress topics, by any sender. The chain
// republishes every message it sequenced with its outcome; the loop owns
// mq.TopicEgress itself (it confirms the enclave's own messages whatever
// the outcome) and routes to the follower of the message's egress topic
// only what the owning chain module accepted. So FoldEgress sees facts:
// the chain applied its rules (the sender's standing, the payload's
// validity and freshness) and the follower must not apply them again.
type EgressFollower interface {
	Module
	EgressTopics() []string
	// FoldEgress applies one message the chain accepted.
	FoldEgress(ctx *Context, se mq.SignedEgress) (Effects, error)
}

// Context is what a step may read besides the module's own state. The loop
// builds one per block.
type Context struct {
	ChainID  string
	Identity ed25519.PublicKey
	Role     registryapi.Role
	Height   int64
	Hash     []byte
	Time     time.Time
	// Secrets reads the sealed keystore.
	Secrets keystore.Reader
	// Outbox tells what of the enclave's egress the chain has not
	// confirmed yet (the effects of earlier steps are in it already).
	Outbox Outbox
	Log    *slog.Logger
}

// Outbox is what a step may read of the enclave's outbox.
type Outbox interface {
	// Waiting reports whether a message on topic waits for the chain.
	Waiting(topic string) bool
}

// Egress is one message for the chain; the loop signs it with the node's
// identity key and gives it the next sequence number.
type Egress struct {
	Topic   string
	Payload []byte
}

// Effects are what a step asks the loop to do, in this order: seal the
// secret writes into the keystore, then queue the egress. A step's egress
// never depends on its own secret writes (the step stops at its first
// request), so a failed write delays work, never loses a queued message.
type Effects struct {
	Secrets []keystore.Write
	Egress  []Egress
}

// Send queues an egress message.
func (e *Effects) Send(topic string, payload []byte) {
	e.Egress = append(e.Egress, Egress{Topic: topic, Payload: payload})
}

// Store asks for a secret write.
func (e *Effects) Store(w keystore.Write) { e.Secrets = append(e.Secrets, w) }

// Routes maps each ingress topic to its owner and followers, and each
// egress topic to the modules that follow its republication, in module
// order (the registry view and the rewards module both read heartbeats).
type Routes struct {
	Owner     map[string]Module
	Followers map[string][]Module
	Egress    map[string][]EgressFollower
}

// NewRoutes collects the modules' topics. A topic with two owners, an
// empty topic, a followed topic nobody
// owns, a module claiming a reserved topic (the loop's own) or two
// modules of one name are programming errors reported at start.
func NewRoutes(mods []Module, reserved ...string) (Routes, error) {
	r := Routes{Owner: map[string]Module{}, Followers: map[string][]Module{}, Egress: map[string][]EgressFollower{}}
	names := map[string]bool{}
	for _, m := range mods {
		if names[m.Name()] {
			return Routes{}, fmt.Errorf("two enclave modules are named %q", m.Name())
		}
		names[m.Name()] = true
		if err := r.own(m, reserved); err != nil {
			return Routes{}, err
		}
		if err := r.followEgress(m); err != nil {
			return Routes{}, err
		}
	}
	for _, m := range mods {
		f, ok := m.(Follower)
		if !ok {
			continue
		}
		for _, t := range f.Follows() {
			if r.Owner[t] == nil {
				return Routes{}, fmt.Errorf("module %s follows topic %q, which no module owns", m.Name(), t)
			}
			r.Followers[t] = append(r.Followers[t], m)
		}
	}
	return r, nil
}

func (r Routes) own(m Module, reserved []string) error {
	for _, t := range m.Topics() {
		switch {
		case t == "":
			return fmt.Errorf("module %s declares an empty topic", m.Name())
		case slices.Contains(reserved, t):
			return fmt.Errorf("module %s claims topic %q, which the loop owns", m.Name(), t)
		case r.Owner[t] != nil:
			return fmt.Errorf("topic %q is owned by both %s and %s", t, r.Owner[t].Name(), m.Name())
		}
		r.Owner[t] = m
	}
	return nil
}

func (r Routes) followEgress(m Module) error {
	ef, ok := m.(EgressFollower)
	if !ok {
		return nil
	}
	for _, t := range ef.EgressTopics() {
		if t == "" {
			return fmt.Errorf("module %s follows an empty egress topic", m.Name())
		}
		r.Egress[t] = append(r.Egress[t], ef)
	}
	return nil
}
