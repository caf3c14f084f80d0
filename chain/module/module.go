// Package module is the contract between the consensus application and its
// modules. A module is a package with its own state keys, transactions,
// queries, events and genesis section; adding one means writing that package
// and listing it in the application, nothing else.
package module

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
)

// Module is one part of the chain's state machine.
type Module interface {
	// Name is the module's name: the genesis section, the method and query
	// prefix, the error codespace.
	Name() string
	// InitGenesis validates and writes the module's genesis section.
	InitGenesis(ctx *Context, raw json.RawMessage) error
	// Methods lists the transactions the module handles.
	Methods() []Method
	// Query answers a read-only query on committed state.
	Query(r state.IterReader, path string, data []byte) (any, error)
}

// EndBlocker is a module with work at the end of every block (expiries,
// policy re-checks). It must write nothing when there is nothing to do, so
// that empty blocks keep the app hash.
type EndBlocker interface {
	EndBlock(ctx *Context) error
}

// EgressSender is the registered TEE node that signed an egress message, as
// the registry knows it. It holds plain fields so that modules need not
// import the registry.
type EgressSender struct {
	IdentityKey ed25519.PublicKey
	Role        uint8 // the registry's role number
	Operator    address.Address
}

// EgressHandler is a module that owns egress topics: messages enclaves send
// to the chain. The mq module has already checked the signature, that the
// sender is an active registered node and the sequence number; the handler
// checks the payload and applies it. An error refuses the payload: the
// handler's writes and messages are dropped, while the sender's sequence
// number stays used up and the mq module republishes the message to
// enclaves as refused.
type EgressHandler interface {
	EgressTopics() []string
	HandleEgress(ctx *Context, from EgressSender, topic string, payload []byte) error
}

// PerSenderEgress is implemented by an EgressHandler some of whose topics
// mean something per sender (a heartbeat says who is alive). Gatekeepers'
// messages are otherwise counted once by content, since every gatekeeper
// sends the same ones; on a per-sender topic each copy is applied.
type PerSenderEgress interface {
	PerSenderTopic(topic string) bool
}

// EgressFollower is a module that reads egress of topics another module
// owns (the compute module reads the challenge answers in the registry's
// heartbeats). It runs after the owner accepted the payload, on the same
// branch: its refusal refuses the whole message.
type EgressFollower interface {
	FollowedEgressTopics() []string
	FollowEgress(ctx *Context, from EgressSender, topic string, payload []byte) error
}

// EgressRoutes maps each egress topic to the module that owns it and the
// modules that follow it.
type EgressRoutes struct {
	owners    map[string]EgressHandler
	followers map[string][]EgressFollower
}

// NewEgressRoutes collects the topics of the modules that handle egress; a
// topic with two owners, or followed but owned by none, is a programming
// error reported at start.
func NewEgressRoutes(mods []Module) (EgressRoutes, error) {
	routes := EgressRoutes{owners: map[string]EgressHandler{}, followers: map[string][]EgressFollower{}}
	owners := map[string]string{}
	for _, m := range mods {
		h, ok := m.(EgressHandler)
		if !ok {
			continue
		}
		for _, topic := range h.EgressTopics() {
			if topic == "" {
				return EgressRoutes{}, fmt.Errorf("module %s declares an empty egress topic", m.Name())
			}
			if other, dup := owners[topic]; dup {
				return EgressRoutes{}, fmt.Errorf("egress topic %q is owned by both %s and %s", topic, other, m.Name())
			}
			owners[topic], routes.owners[topic] = m.Name(), h
		}
	}
	for _, m := range mods {
		f, ok := m.(EgressFollower)
		if !ok {
			continue
		}
		for _, topic := range f.FollowedEgressTopics() {
			if _, owned := owners[topic]; !owned {
				return EgressRoutes{}, fmt.Errorf("module %s follows egress topic %q, which no module owns", m.Name(), topic)
			}
			routes.followers[topic] = append(routes.followers[topic], f)
		}
	}
	return routes, nil
}

// Route returns the handler of a topic.
func (r EgressRoutes) Route(topic string) (EgressHandler, bool) {
	h, ok := r.owners[topic]
	return h, ok
}

// Followers returns the modules that follow a topic, in module order.
func (r EgressRoutes) Followers(topic string) []EgressFollower { return r.followers[topic] }

// Method is one transaction kind. Handle has one shape: decode the body,
// check it, mutate state, emit an event. Fees are charged by the application
// before Handle runs; any error discards every write of the transaction.
type Method struct {
	Name string // "module.method"
	Gas  uint64 // fixed execution cost
	// Authority marks a method only the chain's authority may call
	// (chain/authority: governance, or a development chain's unsafe
	// admin). Only such methods may be a governance proposal's actions;
	// the handler still checks its sender itself.
	Authority bool
	Handle    func(ctx *Context, body []byte) error
}

// Block is what every transaction of one block shares.
type Block struct {
	ChainID string
	Height  int64
	Time    time.Time
	// Committed is the state as of the previous block, for iteration
	// (overlays do not iterate); read through Store for current values.
	Committed state.IterReader
	// RecentBlockHash returns the hash of one of the last
	// store.RecentBlocks committed blocks.
	RecentBlockHash func(height int64) ([]byte, bool, error)
	// Egress routes accepted enclave messages to the modules owning their
	// topics.
	Egress EgressRoutes
	// Dispatch runs a transaction method's handler on ctx as if ctx.Sender
	// had sent it (no fee, no gas): how governance executes a passed
	// proposal's actions and checks them when they are proposed. It
	// refuses a method that is not marked Authority.
	Dispatch func(ctx *Context, method string, body []byte) error
}

// Context is one transaction's view of the chain.
type Context struct {
	Block
	Store     *state.Overlay
	Sender    address.Address
	SenderKey ed25519.PublicKey
	// TxHash is the transaction's hash (chain/tx.Hash of its bytes; zero
	// at genesis and at the end of a block), so what a transaction
	// publishes can name it: a command's receipt is found by it.
	TxHash [32]byte
	// CheckOnly is set in the mempool check; handlers run fully against the
	// mempool's own state so that queued transactions see each other.
	CheckOnly bool

	events   []Event
	messages []mq.Message
}

// Event is what a module tells clients about a transaction or a block. The
// application turns events into the consensus engine's form (indexed ABCI
// events), so modules never depend on the engine.
type Event struct {
	Type  string
	Attrs []Attr
}

// Emit records a typed event for clients.
func (c *Context) Emit(kind string, attrs ...Attr) {
	c.events = append(c.events, Event{Type: kind, Attrs: attrs})
}

// Publish puts a message for enclaves on this block's ingress list.
func (c *Context) Publish(m mq.Message) { c.messages = append(c.messages, m) }

// Try runs fn on a branch of this context: its writes, events and messages
// are kept if fn succeeds and dropped if it fails, while the caller's own
// work stands either way.
func (c *Context) Try(fn func(*Context) error) error {
	sub := *c
	sub.Store = c.Store.Branch()
	sub.events, sub.messages = nil, nil
	if err := fn(&sub); err != nil {
		return err
	}
	sub.Store.Merge()
	c.events = append(c.events, sub.events...)
	c.messages = append(c.messages, sub.messages...)
	return nil
}

// Events returns what the transaction emitted.
func (c *Context) Events() []Event { return c.events }

// Messages returns what the transaction published for enclaves.
func (c *Context) Messages() []mq.Message { return c.messages }

// Attr is one event attribute.
type Attr struct{ Key, Value string }

// A builds an attribute from anything printable.
func A(key string, value any) Attr {
	switch v := value.(type) {
	case string:
		return Attr{key, v}
	case int64:
		return Attr{key, strconv.FormatInt(v, 10)}
	case uint64:
		return Attr{key, strconv.FormatUint(v, 10)}
	case interface{ String() string }:
		return Attr{key, v.String()}
	}
	return Attr{key, "?"}
}

// ErrUnknownQuery is returned for a query path no module serves.
var ErrUnknownQuery = errs.Register("query", 1, "unknown query path")

// ErrBadQuery is returned for a query whose data does not parse.
var ErrBadQuery = errs.Register("query", 2, "invalid query data")

// ErrNotFound is returned when the queried item does not exist.
var ErrNotFound = errs.Register("query", 3, "not found")
