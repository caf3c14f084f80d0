// Package mq is the chain's "mq" module, the way out of the enclaves:
// it accepts messages that TEE nodes sign with their identity keys, exactly
// in their per-sender sequence, routes each to the module owning its topic
// and republishes it on the block's message list with the outcome (applied,
// refused by the module, or a gatekeeper's duplicate), so every enclave (the
// sender too) sees what the chain made of it.
//
// A relay submits the message in an "mq.submit" transaction paid by its
// operator account; the enclave never holds funds. Whoever relays a message,
// the sequence number makes it count once: nothing lost, duplicated or
// reordered.
package mq

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
)

// Module is the egress side of the message queue.
type Module struct{}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return mq.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{{Name: mq.MethodSubmit, Gas: mq.SubmitGas, Handle: handleSubmit}}
}

// Genesis is the module's genesis section; it has no fields yet.
type Genesis struct{}

// InitGenesis implements module.Module: the section must be an empty
// object, so a typo in a future field is not silently ignored.
func (Module) InitGenesis(_ *module.Context, raw json.RawMessage) error {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("mq genesis: %w", err)
	}
	return nil
}

// handleSubmit: decode, check (signature, sender, sequence, topic), mutate
// (sequence, then the topic's module on a branch of its own), emit, and
// republish the message with its outcome. Fees were charged by the
// application to the relaying account.
func handleSubmit(ctx *module.Context, body []byte) error {
	signed, err := mq.DecodeSubmit(ctx.ChainID, body)
	if err != nil {
		return err
	}
	e := signed.Egress
	from, err := checkSender(ctx, e)
	if err != nil {
		return err
	}
	h, ok := ctx.Egress.Route(e.Topic)
	if !ok {
		return mq.ErrUnknownTopic.Wrapf("%q", e.Topic)
	}
	putSequence(ctx.Store, e.Sender, e.Seq)
	outcome, err := route(ctx, h, from, e)
	if err != nil {
		return err
	}
	// Published after the module decided, so the republication can say
	// what it decided: enclaves read that fact instead of re-deriving the
	// module's rules. What the module published itself comes before.
	ctx.Publish(mq.Republish(signed, outcome))
	return nil
}

// route hands the payload to the topic's module, unless it is a
// gatekeeper's copy of content already sent, and tells clients the outcome.
// A refusal is an outcome, not an error: the sequence number stays used up
// so one bad message never wedges its sender's stream.
func route(ctx *module.Context, h module.EgressHandler, from module.EgressSender, e mq.Egress) (mq.Outcome, error) {
	if from.Role == uint8(registryapi.RoleGatekeeper) && !perSender(h, e.Topic) {
		seen, err := rememberContent(ctx.Store, e.Topic, e.Payload)
		if err != nil {
			return 0, err
		}
		if seen {
			ctx.Emit(mq.EventDuplicateContent, attrs(e)...)
			return mq.OutcomeDuplicate, nil
		}
	}
	err := ctx.Try(func(sub *module.Context) error {
		if err := h.HandleEgress(sub, from, e.Topic, e.Payload); err != nil {
			return err
		}
		for _, f := range ctx.Egress.Followers(e.Topic) {
			if err := f.FollowEgress(sub, from, e.Topic, e.Payload); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		space, code := errs.Code(err)
		ctx.Emit(mq.EventRejected, append(attrs(e), module.A("codespace", space), module.A("code", uint64(code)), module.A("reason", err.Error()))...)
		return mq.OutcomeRefused, nil
	}
	ctx.Emit(mq.EventAccepted, attrs(e)...)
	return mq.OutcomeAccepted, nil
}

// checkSender requires a registered, active node whose next sequence number
// this is. An old number is a harmless duplicate, checked before activity so
// that a relay retrying a delivered message learns it was delivered.
func checkSender(ctx *module.Context, e mq.Egress) (module.EgressSender, error) {
	n, ok, err := registry.GetNode(ctx.Store, e.Sender)
	if err != nil {
		return module.EgressSender{}, err
	}
	if !ok {
		return module.EgressSender{}, mq.ErrUnknownSender.Wrapf("%x", []byte(e.Sender))
	}
	last, err := GetSequence(ctx.Store, e.Sender)
	if err != nil {
		return module.EgressSender{}, err
	}
	switch {
	case e.Seq <= last:
		return module.EgressSender{}, mq.ErrDuplicate.Wrapf("sequence %d, last accepted %d", e.Seq, last)
	case !n.Active:
		return module.EgressSender{}, mq.ErrInactiveSender.Wrapf("%x: %s", []byte(e.Sender), n.Reason)
	case e.Seq > last+1:
		return module.EgressSender{}, mq.ErrSequenceGap.Wrapf("sequence %d, expected %d", e.Seq, last+1)
	}
	return module.EgressSender{IdentityKey: e.Sender, Role: uint8(n.Role), Operator: n.Operator}, nil
}

// rememberContent records a gatekeeper message's (topic, payload) and says
// whether it was already there. Every gatekeeper runs the same code on the
// same events and sends the same messages; the first copy counts.
func rememberContent(s *state.Overlay, topic string, payload []byte) (bool, error) {
	h := sha256.Sum256(codec.MustMarshal(mq.Message{Topic: topic, Payload: payload}))
	key := contentKey.Key(h[:])
	v, err := s.Get(key)
	if err != nil || v != nil {
		return v != nil, err
	}
	s.Set(key, []byte{})
	return false, nil
}

func perSender(h module.EgressHandler, topic string) bool {
	ps, ok := h.(module.PerSenderEgress)
	return ok && ps.PerSenderTopic(topic)
}

func attrs(e mq.Egress) []module.Attr {
	return []module.Attr{
		module.A("sender", fmt.Sprintf("%x", []byte(e.Sender))),
		module.A("seq", e.Seq),
		module.A("topic", e.Topic),
	}
}

// GetSequence is the last sequence number accepted from sender (0: none).
func GetSequence(r state.Reader, sender []byte) (uint64, error) {
	raw, err := r.Get(seqKey.Key(sender))
	if err != nil || raw == nil {
		return 0, err
	}
	if len(raw) != 8 {
		return 0, mq.ErrCorruptState.Wrapf("sequence of %x is %d bytes", sender, len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

func putSequence(s *state.Overlay, sender []byte, seq uint64) {
	s.Set(seqKey.Key(sender), binary.BigEndian.AppendUint64(nil, seq))
}
