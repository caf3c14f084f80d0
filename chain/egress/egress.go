// Package egress is the chain's "mq" module on the way out of the enclaves:
// it accepts messages that TEE nodes sign with their identity keys, exactly
// in their per-sender sequence, routes each to the module owning its topic
// and republishes it on the block's message list so every enclave (the
// sender too) sees what the chain accepted.
//
// A relay submits the message in an "mq.submit" transaction paid by its
// operator account; the enclave never holds funds. Whoever relays a message,
// the sequence number makes it count once: nothing lost, duplicated or
// reordered.
package egress

import (
	"bytes"
	"crypto/ed25519"
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

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "mq"

// Method and query names.
const (
	MethodSubmit  = "mq.submit"   // body: mq.SignedEgress
	QuerySequence = "mq/sequence" // data: identity key → uint64
)

// Event kinds.
const (
	// EventAccepted is emitted for every accepted message.
	EventAccepted = "mq.egress"
	// EventDuplicateContent is emitted instead when a gatekeeper's message
	// repeats content another gatekeeper already had accepted: the sender's
	// sequence advances, nothing is routed or republished.
	EventDuplicateContent = "mq.egress_duplicate_content"
	// EventRejected is emitted when the topic's module refused the payload:
	// the sequence number is used up and the message republished all the
	// same, so one bad message never wedges its sender's stream, but the
	// module's state is unchanged. Attributes say why.
	EventRejected = "mq.egress_rejected"
)

// SubmitGas is the execution cost of "mq.submit": one ed25519 verification
// (like a transfer's envelope), a few reads and writes, and the topic's
// handler, which is small (heartbeats). The fee already grows with the size.
const SubmitGas = 5_000

// MaxTopicLen bounds a topic name: topics are routing names, not data.
const MaxTopicLen = 64

// Stable error kinds.
var (
	ErrInvalid        = errs.Register(Name, 1, "malformed egress message")
	ErrBadSignature   = errs.Register(Name, 2, "egress signature does not verify")
	ErrUnknownSender  = errs.Register(Name, 3, "egress sender is not a registered node")
	ErrInactiveSender = errs.Register(Name, 4, "egress sender is not active")
	// ErrDuplicate means the chain already accepted this sequence number:
	// a relay treats it as delivered.
	ErrDuplicate    = errs.Register(Name, 5, "already accepted")
	ErrSequenceGap  = errs.Register(Name, 6, "egress sequence number skips ahead")
	ErrUnknownTopic = errs.Register(Name, 7, "no module owns this egress topic")
	ErrCorruptState = errs.Register(Name, 8, "corrupt mq state")
)

// Module is the egress side of the message queue.
type Module struct{}

var _ module.Module = Module{}

// Name implements module.Module.
func (Module) Name() string { return Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{{Name: MethodSubmit, Gas: SubmitGas, Handle: handleSubmit}}
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

// DecodeSubmit strictly decodes an "mq.submit" body and checks its form and
// signature for chainID.
func DecodeSubmit(chainID string, body []byte) (mq.SignedEgress, error) {
	var s mq.SignedEgress
	if err := codec.UnmarshalCanonical(body, &s); err != nil {
		return s, ErrInvalid.Wrapf("body: %v", err)
	}
	if err := checkForm(s.Egress); err != nil {
		return s, err
	}
	if err := s.Verify(chainID); err != nil {
		// The form passed above, so what fails is the signature.
		return s, ErrBadSignature.Wrapf("%v", err)
	}
	return s, nil
}

// checkForm refuses what cannot be a valid message before any signature
// work, so that a malformed message gets its own code.
func checkForm(e mq.Egress) error {
	switch {
	case e.Version != mq.EgressVersion:
		return ErrInvalid.Wrapf("version %d, want %d", e.Version, mq.EgressVersion)
	case len(e.Sender) != ed25519.PublicKeySize:
		return ErrInvalid.Wrapf("sender key is %d bytes", len(e.Sender))
	case e.Seq == 0:
		return ErrInvalid.Wrapf("sequence numbers start at 1")
	case e.Topic == "" || len(e.Topic) > MaxTopicLen:
		return ErrInvalid.Wrapf("topic of %d bytes, want 1..%d", len(e.Topic), MaxTopicLen)
	}
	return nil
}

// handleSubmit: decode, check (signature, sender, sequence, topic), mutate
// (sequence, then the topic's module on a branch of its own), emit. Fees were charged by the
// application to the relaying account.
func handleSubmit(ctx *module.Context, body []byte) error {
	signed, err := DecodeSubmit(ctx.ChainID, body)
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
		return ErrUnknownTopic.Wrapf("%q", e.Topic)
	}
	putSequence(ctx.Store, e.Sender, e.Seq)
	if from.Role == uint8(registryapi.RoleGatekeeper) && !perSender(h, e.Topic) {
		seen, err := rememberContent(ctx.Store, e.Topic, e.Payload)
		if err != nil {
			return err
		}
		if seen {
			ctx.Emit(EventDuplicateContent, attrs(e)...)
			return nil
		}
	}
	ctx.Publish(mq.Message{Topic: mq.TopicEgress, Payload: codec.MustMarshal(signed)})
	err = ctx.Try(func(sub *module.Context) error { return h.HandleEgress(sub, from, e.Topic, e.Payload) })
	if err != nil {
		space, code := errs.Code(err)
		ctx.Emit(EventRejected, append(attrs(e), module.A("codespace", space), module.A("code", uint64(code)), module.A("reason", err.Error()))...)
		return nil
	}
	ctx.Emit(EventAccepted, attrs(e)...)
	return nil
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
		return module.EgressSender{}, ErrUnknownSender.Wrapf("%x", []byte(e.Sender))
	}
	last, err := GetSequence(ctx.Store, e.Sender)
	if err != nil {
		return module.EgressSender{}, err
	}
	switch {
	case e.Seq <= last:
		return module.EgressSender{}, ErrDuplicate.Wrapf("sequence %d, last accepted %d", e.Seq, last)
	case !n.Active:
		return module.EgressSender{}, ErrInactiveSender.Wrapf("%x: %s", []byte(e.Sender), n.Reason)
	case e.Seq > last+1:
		return module.EgressSender{}, ErrSequenceGap.Wrapf("sequence %d, expected %d", e.Seq, last+1)
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
		return 0, ErrCorruptState.Wrapf("sequence of %x is %d bytes", sender, len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

func putSequence(s *state.Overlay, sender []byte, seq uint64) {
	s.Set(seqKey.Key(sender), binary.BigEndian.AppendUint64(nil, seq))
}
