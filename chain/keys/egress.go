package keys

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// EgressTopics implements module.EgressHandler. None is per sender: every
// gatekeeper sends the same public keys, and the mq module counts a
// gatekeeper's identical content once.
func (Module) EgressTopics() []string {
	return []string{keysapi.TopicMasterPublic, keysapi.TopicMasterHandout, keysapi.TopicClusterPublic, keysapi.TopicClusterHandout, keysapi.TopicContractPublic}
}

// HandleEgress implements module.EgressHandler. The mq module has checked
// the signature, that the sender is active and the sequence; only
// gatekeepers hold keys, so only they may speak on these topics.
func (Module) HandleEgress(ctx *module.Context, from module.EgressSender, topic string, payload []byte) error {
	if from.Role != uint8(registryapi.RoleGatekeeper) {
		return keysapi.ErrNotGatekeeper.Wrapf("%x has role %s", []byte(from.IdentityKey), registryapi.Role(from.Role))
	}
	switch topic {
	case keysapi.TopicMasterPublic:
		return recordMasterPublic(ctx, from.IdentityKey, payload)
	case keysapi.TopicMasterHandout:
		return handleMasterHandout(ctx, payload)
	case keysapi.TopicClusterPublic:
		return handleClusterPublic(ctx, payload)
	case keysapi.TopicClusterHandout:
		return handleClusterHandout(ctx, payload)
	case keysapi.TopicContractPublic:
		return handleContractPublic(ctx, payload)
	}
	return keysapi.ErrInvalid.Wrapf("keys owns no egress topic %q", topic)
}

// recordMasterPublic records the pending generation's public key and
// publishes the fact, with the gatekeeper that sent it, for enclaves: they
// read what was recorded instead of re-applying these rules to the egress.
// A generation's key never changes once recorded: a second, different one
// means a gatekeeper misbehaves or two generated, and is refused.
func recordMasterPublic(ctx *module.Context, sender ed25519.PublicKey, payload []byte) error {
	m, err := keysapi.DecodeMasterPublic(payload)
	if err != nil {
		return err
	}
	old, err := getMaster(ctx.Store, m.Generation)
	if err != nil {
		return err
	}
	if old != nil {
		return sameOrConflict(old, m.PublicKey, fmt.Sprintf("master generation %d", m.Generation))
	}
	st, err := getStatus(ctx.Store)
	if err != nil {
		return err
	}
	if m.Generation != st.Pending {
		return keysapi.ErrGeneration.Wrapf("generation %d is not pending (pending: %d, 0 = none)", m.Generation, st.Pending)
	}
	ctx.Store.Set(masterKey.Key(genBytes(m.Generation)), m.PublicKey)
	putStatus(ctx.Store, keysapi.MasterStatus{Newest: m.Generation})
	ctx.Emit("master_public", module.A("generation", uint64(m.Generation)))
	ctx.Publish(mq.Message{Topic: keysapi.TopicMasterRecorded, Payload: codec.MustMarshal(keysapi.MasterRecorded{
		Generation: m.Generation, PublicKey: m.PublicKey, Sender: sender,
	})})
	return nil
}

// handleMasterHandout lets the master key travel only to an active
// gatekeeper: beside the sending enclave's own checks, the chain refuses to
// carry it anywhere else. Nothing is stored but a record for status
// queries; the mq module republishes the message for the recipient.
func handleMasterHandout(ctx *module.Context, payload []byte) error {
	h, err := keysapi.DecodeHandout(payload, false)
	if err != nil {
		return err
	}
	if err := requireActive(ctx, h.Recipient, registryapi.RoleGatekeeper); err != nil {
		return err
	}
	return recordHandout(ctx, masterHandoutKey.Key(h.Recipient), h, "master_handout")
}

// handleClusterHandout lets a cluster key travel only to an active worker
// assigned to that cluster.
func handleClusterHandout(ctx *module.Context, payload []byte) error {
	h, err := keysapi.DecodeHandout(payload, true)
	if err != nil {
		return err
	}
	if err := requireActive(ctx, h.Recipient, registryapi.RoleWorker); err != nil {
		return err
	}
	in, err := ctx.Store.Get(workerKey.Key(h.Recipient))
	if err != nil {
		return err
	}
	if string(in) != h.Cluster {
		return keysapi.ErrRecipient.Wrapf("worker %x is not assigned to cluster %q", []byte(h.Recipient), h.Cluster)
	}
	return recordHandout(ctx, clusterHandoutKey.Key(h.Recipient), h, "cluster_handout")
}

func requireActive(ctx *module.Context, id ed25519.PublicKey, role registryapi.Role) error {
	n, ok, err := registry.GetNode(ctx.Store, id)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return keysapi.ErrRecipient.Wrapf("%x is not a registered node", []byte(id))
	case n.Role != role:
		return keysapi.ErrRecipient.Wrapf("%x is a %s, not a %s", []byte(id), n.Role, role)
	case !n.Active:
		return keysapi.ErrRecipient.Wrapf("%x is not active: %s", []byte(id), n.Reason)
	}
	return nil
}

func recordHandout(ctx *module.Context, key []byte, h keysapi.Handout, event string) error {
	rec, err := getHandout(ctx.Store, key)
	if err != nil {
		return err
	}
	st, err := getStatus(ctx.Store)
	if err != nil {
		return err
	}
	rec.Cluster, rec.Generation, rec.Height, rec.Count = h.Cluster, st.Newest, ctx.Height, rec.Count+1
	ctx.Store.Set(key, codec.MustMarshal(rec))
	ctx.Emit(event, module.A("recipient", fmt.Sprintf("%x", []byte(h.Recipient))), module.A("cluster", h.Cluster))
	return nil
}

// handleClusterPublic records a cluster's public key for a recorded
// generation; every gatekeeper derives the same, the first counts. The
// recorded key is published for enclaves (workers check handed cluster
// keys against it).
func handleClusterPublic(ctx *module.Context, payload []byte) error {
	p, err := keysapi.DecodeClusterPublic(payload)
	if err != nil {
		return err
	}
	c, ok, err := getCluster(ctx.Store, p.Cluster)
	if err != nil {
		return err
	}
	if !ok {
		return keysapi.ErrUnknownCluster.Wrapf("%q", p.Cluster)
	}
	if err := requireRecorded(ctx, p.Generation); err != nil {
		return err
	}
	for _, old := range c.Publics {
		if old.Generation == p.Generation {
			return sameOrConflict(old.PublicKey, p.PublicKey, fmt.Sprintf("cluster %q generation %d", p.Cluster, p.Generation))
		}
	}
	c.Publics = append(c.Publics, p)
	putCluster(ctx.Store, c)
	ctx.Emit("cluster_public", module.A("cluster", p.Cluster), module.A("generation", uint64(p.Generation)))
	ctx.Publish(mq.Message{Topic: keysapi.TopicClusterRecorded, Payload: codec.MustMarshal(p)})
	return nil
}

// handleContractPublic records a requested contract's public key.
func handleContractPublic(ctx *module.Context, payload []byte) error {
	p, err := keysapi.DecodeContractPublic(payload)
	if err != nil {
		return err
	}
	if _, ok, err := getCluster(ctx.Store, p.Cluster); err != nil {
		return err
	} else if !ok {
		return keysapi.ErrUnknownCluster.Wrapf("%q", p.Cluster)
	}
	c, ok, err := getContract(ctx.Store, p.Cluster, p.Contract)
	if err != nil {
		return err
	}
	if !ok {
		return keysapi.ErrUnknownContract.Wrapf("cluster %q contract %x", p.Cluster, p.Contract)
	}
	if err := requireRecorded(ctx, p.Generation); err != nil {
		return err
	}
	for _, old := range c.Publics {
		if old.Generation == p.Generation {
			return sameOrConflict(old.PublicKey, p.PublicKey, fmt.Sprintf("contract %x generation %d", p.Contract, p.Generation))
		}
	}
	c.Publics = append(c.Publics, p)
	putContract(ctx.Store, c)
	ctx.Emit("contract_public", module.A("cluster", p.Cluster), module.A("contract", fmt.Sprintf("%x", p.Contract)), module.A("generation", uint64(p.Generation)))
	return nil
}

// requireRecorded accepts a generation whose master public key is on chain.
func requireRecorded(ctx *module.Context, gen uint32) error {
	pub, err := getMaster(ctx.Store, gen)
	if err != nil {
		return err
	}
	if pub == nil {
		return keysapi.ErrGeneration.Wrapf("master generation %d is not recorded", gen)
	}
	return nil
}

// sameOrConflict makes a repeated identical key a no-op success (another
// gatekeeper's copy the content dedup did not catch) and a different one
// a refusal.
func sameOrConflict(old, new []byte, what string) error {
	if bytes.Equal(old, new) {
		return nil
	}
	return keysapi.ErrConflict.Wrapf("%s already has public key %x…", what, old[:min(8, len(old))])
}
