package registry

import (
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
)

var (
	_ module.EgressHandler   = Module{}
	_ module.PerSenderEgress = Module{}
)

// EgressTopics implements module.EgressHandler.
func (Module) EgressTopics() []string {
	return []string{registryapi.TopicHeartbeat, registryapi.TopicEndpoint}
}

// PerSenderTopic implements module.PerSenderEgress: a heartbeat or an
// endpoint is about its sender, so two gatekeepers' equal ones both count.
func (Module) PerSenderTopic(topic string) bool {
	return topic == registryapi.TopicHeartbeat || topic == registryapi.TopicEndpoint
}

// HandleEgress implements module.EgressHandler. The mq module has checked
// the signature, the sender's registration and the sequence number.
func (Module) HandleEgress(ctx *module.Context, from module.EgressSender, topic string, payload []byte) error {
	switch topic {
	case registryapi.TopicHeartbeat:
		return handleHeartbeat(ctx, from, payload)
	case registryapi.TopicEndpoint:
		return handleEndpoint(ctx, from, payload)
	}
	return registryapi.ErrInvalid.Wrapf("registry owns no egress topic %q", topic)
}

// handleHeartbeat records the newest block a node says it has processed.
// It publishes nothing: the mq module republishes the egress itself.
func handleHeartbeat(ctx *module.Context, from module.EgressSender, payload []byte) error {
	var hb registryapi.Heartbeat
	if err := codec.UnmarshalCanonical(payload, &hb); err != nil {
		return registryapi.ErrBadHeartbeat.Wrapf("payload: %v", err)
	}
	// A node can only have processed committed blocks, so the block being
	// executed (which carries the heartbeat) is already in the future.
	if hb.Height <= 0 || hb.Height >= ctx.Height {
		return registryapi.ErrBadHeartbeat.Wrapf("height %d at block %d: must name a committed block", hb.Height, ctx.Height)
	}
	n, ok, err := getNode(ctx.Store, from.IdentityKey)
	if err != nil {
		return err
	}
	if !ok || !n.Active {
		return registryapi.ErrUnknownIdentity.Wrapf("no active node %x", from.IdentityKey)
	}
	if hb.Height < n.LastHeartbeat {
		return registryapi.ErrStaleHeartbeat.Wrapf("height %d, last %d", hb.Height, n.LastHeartbeat)
	}
	n.LastHeartbeat = hb.Height
	putNode(ctx.Store, n)
	ctx.Emit("node_heartbeat", module.A("identity", fmt.Sprintf("%x", n.IdentityKey)), module.A("height", hb.Height))
	return nil
}
