// Package endpoint is the enclave module that publishes where this node's
// public API answers: the URL its operator advertises, sent to the chain
// as registry.endpoint egress signed by the node's identity key, so that
// clients find the workers of a contract's cluster from the chain alone.
//
// The URL is configuration, not a fact of the chain: the operator knows
// where the host exposes the API (a port, a proxy, a DNS name), the
// enclave does not. What the module keeps in its state is the chain's
// fact, the URL the registry recorded for this node (read from the
// chain's republication of accepted endpoints). At the end of a block it
// sends the advertised URL when the node is registered and the chain
// records another one, once per start: a refused URL (the chain says why
// in its mq.egress_rejected event) is not sent again until the next start.
package endpoint

import (
	"bytes"
	"fmt"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/worker/enclave/module"
)

// Name is the module's name and checkpoint section.
const Name = "endpoint"

// State is the module's checkpointed state.
type State struct {
	_ struct{} `cbor:",toarray"`
	// Recorded is the URL the chain recorded for this node ("" none).
	Recorded string
}

// Module publishes this node's endpoint.
type Module struct {
	registered func() bool
	st         State
	// want is the advertised URL (""): nothing to publish) and tried the
	// one last sent since the start; neither is state: both come from the
	// operator's configuration of this run.
	want, tried string
}

var _ module.EgressFollower = (*Module)(nil)

// New is the module at genesis; registered says whether this node is
// registered and active (the registry view knows).
func New(registered func() bool) *Module { return &Module{registered: registered} }

// Advertise sets the URL to publish; it must pass
// registryapi.CheckEndpointURL ("" publishes nothing).
func (m *Module) Advertise(url string) error {
	if url != "" {
		if err := registryapi.CheckEndpointURL(url); err != nil {
			return err
		}
	}
	m.want = url
	return nil
}

// Advertised is the URL the operator advertises ("" none).
func (m *Module) Advertised() string { return m.want }

// Recorded is the URL the chain recorded for this node ("" none yet).
func (m *Module) Recorded() string { return m.st.Recorded }

// Name implements module.Module.
func (*Module) Name() string { return Name }

// Topics implements module.Module: the module owns no ingress topic.
func (*Module) Topics() []string { return nil }

// EgressTopics implements module.EgressFollower.
func (*Module) EgressTopics() []string { return []string{registryapi.TopicEndpoint} }

// BeginBlock implements module.Module.
func (*Module) BeginBlock(*module.Context) {}

// Fold implements module.Module; no ingress topic routes here.
func (*Module) Fold(_ *module.Context, msg mq.Message) (module.Effects, error) {
	return module.Effects{}, fmt.Errorf("endpoint: no handler for topic %q", msg.Topic)
}

// FoldEgress implements module.EgressFollower: an endpoint the chain
// accepted. Only this node's own matters here. If the chain recorded
// another URL than the one last sent (a message of an earlier run the
// chain took after this one was queued), the advertised one may go again.
func (m *Module) FoldEgress(ctx *module.Context, se mq.SignedEgress) (module.Effects, error) {
	if !bytes.Equal(se.Egress.Sender, ctx.Identity) {
		return module.Effects{}, nil
	}
	var e registryapi.Endpoint
	if err := codec.Unmarshal(se.Egress.Payload, &e); err != nil {
		return module.Effects{}, fmt.Errorf("endpoint: accepted endpoint: %w", err)
	}
	m.st.Recorded = e.URL
	if e.URL != m.tried {
		m.tried = ""
	}
	return module.Effects{}, nil
}

// EndBlock implements module.Module: publish the advertised URL when the
// node is registered, the chain records another, it was not tried in this
// run and no endpoint of ours waits for the chain.
func (m *Module) EndBlock(ctx *module.Context) module.Effects {
	var eff module.Effects
	if m.want == "" || m.want == m.st.Recorded || m.want == m.tried || !m.registered() || ctx.Outbox.Waiting(registryapi.TopicEndpoint) {
		return eff
	}
	m.tried = m.want
	ctx.Log.Info("publishing this node's public API endpoint", "url", m.want, "recorded", m.st.Recorded)
	eff.Send(registryapi.TopicEndpoint, codec.MustMarshal(registryapi.Endpoint{URL: m.want}))
	return eff
}

// MarshalState implements module.Module.
func (m *Module) MarshalState() []byte { return codec.MustMarshal(m.st) }

// UnmarshalState implements module.Module.
func (m *Module) UnmarshalState(b []byte) error {
	var st State
	if err := codec.UnmarshalCanonical(b, &st); err != nil {
		return fmt.Errorf("endpoint state: %w", err)
	}
	m.st = st
	return nil
}
