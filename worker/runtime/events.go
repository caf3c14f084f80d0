package runtime

import (
	"bytes"
	"crypto/hpke"
	"fmt"
	"log/slog"
	"time"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/lightclient"
)

// HeartbeatEvery is how often (in blocks) a registered, active runtime says
// it is alive: at every height that is a multiple of it.
const HeartbeatEvery = 20

// folder applies verified blocks to a state. It cannot fail: a message
// whose payload does not decode is counted, logged and skipped, so the
// fold never stops half way through a block.
type folder struct {
	st   *State
	keys signer
	log  *slog.Logger
	// heartbeatSent is set when the block being folded already produced a
	// heartbeat, so a registration on a multiple of HeartbeatEvery sends one.
	heartbeatSent bool

	// Key management (keys.go, handover.go). ks nil: no key handling.
	ks  *keystore
	enc hpke.PrivateKey // the node's encryption key, handouts are sealed to it
	// blockTime is the time of the block being folded.
	blockTime time.Time
	// keysDirty: something key management depends on changed this block.
	keysDirty bool
	// recorded: a public key was recorded this block.
	recorded bool
}

// handler applies one verified message's payload; an error means the
// payload was malformed and nothing was changed.
type handler func(f *folder, height int64, payload []byte) error

var handlers = map[string]handler{
	registryapi.TopicNode:       (*folder).onNode,
	registryapi.TopicPolicy:     (*folder).onPolicy,
	registryapi.TopicGatekeeper: (*folder).onGatekeeper,
	mq.TopicEgress:              (*folder).onEgress,
	keysapi.TopicRotation:       (*folder).onRotation,
	keysapi.TopicCluster:        (*folder).onCluster,
	keysapi.TopicContract:       (*folder).onContract,
}

// keysEgressTopics are the egress topics key management follows.
var keysEgressTopics = map[string]bool{
	keysapi.TopicMasterPublic: true, keysapi.TopicMasterHandout: true, keysapi.TopicClusterPublic: true,
	keysapi.TopicClusterHandout: true, keysapi.TopicContractPublic: true,
}

// block folds one final block: its messages in order, then the periodic
// heartbeat, then the key management the block calls for.
func (f *folder) block(b lightclient.Final) {
	f.heartbeatSent, f.keysDirty, f.recorded, f.blockTime = false, false, false, b.Time
	f.st.Keys.noteBlock(b.Height, b.Hash)
	for i, m := range b.Messages {
		h, ok := handlers[m.Topic]
		if !ok {
			f.st.Counters.UnknownTopics++
			continue
		}
		if err := h(f, b.Height, m.Payload); err != nil {
			f.st.Counters.Malformed++
			f.log.Warn("skipped a malformed message", "height", b.Height, "index", i, "topic", m.Topic, "err", err)
		}
	}
	if f.st.Registered && !f.heartbeatSent && b.Height%HeartbeatEvery == 0 {
		f.heartbeat(b.Height)
	}
	f.keysStep(b)
}

func (f *folder) onNode(height int64, payload []byte) error {
	var ev registryapi.NodeEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	n := ev.Node
	if len(n.IdentityKey) == 0 {
		return fmt.Errorf("node event without an identity key")
	}
	v := &f.st.Registry
	prev := NodeView{}
	if i, ok := v.node(n.IdentityKey); ok {
		prev = v.Nodes[i]
	}
	v.putNode(NodeView{IdentityKey: n.IdentityKey, Role: n.Role, Active: n.Active, EncryptionKey: n.EncryptionKey, LastHeartbeat: max(prev.LastHeartbeat, n.LastHeartbeat)})
	f.keysDirty = true
	if !bytes.Equal(n.IdentityKey, f.st.Identity) {
		f.onGatekeeperRegistered(height, ev)
		return nil
	}
	switch ev.Kind {
	case "registered":
		f.st.Registered = n.Active
		f.log.Info("this runtime is registered", "height", height, "role", n.Role, "active", n.Active)
		if n.Active {
			f.heartbeat(height)
		}
	case "deactivated":
		f.st.Registered = false
		f.log.Warn("this runtime was deactivated", "height", height, "reason", ev.Reason)
	default:
		f.st.Registered = n.Active
	}
	return nil
}

func (f *folder) onPolicy(_ int64, payload []byte) error {
	var ev registryapi.PolicyEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	f.st.Registry.Policy = ev.Policy
	return nil
}

func (f *folder) onGatekeeper(_ int64, payload []byte) error {
	var ev registryapi.GatekeeperEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	f.st.Registry.setGrant(ev.Grant, ev.Allowed)
	if len(f.st.Registry.Grants) == 0 {
		f.st.Registry.Grants = nil
	}
	return nil
}

// onEgress sees an egress message the chain accepted: a heartbeat updates
// its sender's liveness; one of ours confirms it and everything before it.
func (f *folder) onEgress(_ int64, payload []byte) error {
	var se mq.SignedEgress
	if err := codec.Unmarshal(payload, &se); err != nil {
		return err
	}
	e := se.Egress
	if e.Topic == registryapi.TopicHeartbeat {
		var hb registryapi.Heartbeat
		if err := codec.Unmarshal(e.Payload, &hb); err == nil {
			if i, ok := f.st.Registry.node(e.Sender); ok {
				f.st.Registry.Nodes[i].LastHeartbeat = max(f.st.Registry.Nodes[i].LastHeartbeat, hb.Height)
			}
		}
	}
	if bytes.Equal(e.Sender, f.st.Identity) {
		f.confirm(se)
	}
	if keysEgressTopics[e.Topic] {
		return f.onKeysEgress(se)
	}
	return nil
}

// confirm drops every pending message up to se's sequence number.
func (f *folder) confirm(se mq.SignedEgress) {
	ob := &f.st.Outbox
	n := 0
	for n < len(ob.Pending) && ob.Pending[n].Egress.Seq <= se.Egress.Seq {
		if ob.Pending[n].Egress.Seq == se.Egress.Seq && !bytes.Equal(codec.MustMarshal(ob.Pending[n]), codec.MustMarshal(se)) {
			// Same key, same number, other bytes: another runtime holds
			// this identity or this one lost its state.
			f.log.Error("the chain confirmed an egress message of ours that differs from ours", "seq", se.Egress.Seq)
		}
		n++
	}
	ob.Pending = ob.Pending[n:]
	if len(ob.Pending) == 0 {
		ob.Pending = nil
	}
	if ob.NextSeq <= se.Egress.Seq {
		ob.NextSeq = se.Egress.Seq + 1
	}
}

// heartbeat queues a heartbeat unless one is still waiting for the chain.
// The registry keeps only a node's newest, so while the relay cannot
// submit (a node that refuses, an operator out of fees) the outbox holds
// one heartbeat, not one more every HeartbeatEvery blocks.
func (f *folder) heartbeat(height int64) {
	f.heartbeatSent = true
	for _, p := range f.st.Outbox.Pending {
		if p.Egress.Topic == registryapi.TopicHeartbeat {
			return
		}
	}
	f.send(registryapi.TopicHeartbeat, codec.MustMarshal(registryapi.Heartbeat{Height: height}))
}

// send appends a signed egress message with the next sequence number.
func (f *folder) send(topic string, payload []byte) {
	ob := &f.st.Outbox
	if ob.NextSeq == 0 {
		ob.NextSeq = 1
	}
	e := mq.Egress{Version: mq.EgressVersion, Sender: f.st.Identity, Seq: ob.NextSeq, Topic: topic, Payload: payload}
	ob.Pending = append(ob.Pending, f.keys.sign(f.st.Light.ChainID, e))
	ob.NextSeq++
}
