package keys

import (
	"bytes"
	"fmt"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/worker/enclave/module"
)

// onNode re-verifies a newly registered gatekeeper's quote inside this
// enclave, so that keys never depend on the validators alone; only a
// gatekeeper that passes is ever sent the master key. The registry view
// owns the topic and has folded the event already.
func (m *Module) onNode(ctx *module.Context, payload []byte) error {
	var ev registryapi.NodeEvent
	if err := codec.Unmarshal(payload, &ev); err != nil {
		return err
	}
	m.dirty = true
	n := ev.Node
	if ctx.Role != registryapi.RoleGatekeeper || n.Role != registryapi.RoleGatekeeper || bytes.Equal(n.IdentityKey, ctx.Identity) {
		return nil
	}
	m.st.Attested = dropMember(m.st.Attested, n.IdentityKey)
	if ev.Kind != "registered" || !n.Active {
		return nil
	}
	if err := m.checkAttestation(ctx, ev); err != nil {
		ctx.Log.Warn("a gatekeeper's registration does not verify here: it gets no keys", "height", ctx.Height, "identity", fmt.Sprintf("%x", n.IdentityKey), "err", err)
		return nil
	}
	m.st.Attested = putMember(m.st.Attested, Member{IdentityKey: bytes.Clone(n.IdentityKey), EncryptionKey: bytes.Clone(n.EncryptionKey)})
	return nil
}

// checkAttestation verifies the quote as the chain did (policy, block
// time) and that its report data binds the node's keys and operator to one
// of the recent blocks before the registration.
func (m *Module) checkAttestation(ctx *module.Context, ev registryapi.NodeEvent) error {
	n := ev.Node
	if _, err := envelope.ParsePublicKey(envelope.Default, n.EncryptionKey); err != nil {
		return err
	}
	policy := m.reg.Policy()
	opts := []attest.Option{attest.WithPolicy(policy)}
	if policy.AllowSim {
		opts = append(opts, attest.AllowSim())
	}
	v, err := attest.Verify(ev.Quote, ev.Proof, ctx.Time, opts...)
	if err != nil {
		return err
	}
	recent := m.st.Recent
	for i := len(recent) - 1; i >= 0; i-- {
		if recent[i].Height >= ctx.Height {
			continue
		}
		b := identity.Binding{ChainID: ctx.ChainID, AnchorHash: recent[i].Hash, IdentityKey: n.IdentityKey, EncryptionKey: n.EncryptionKey, Operator: n.Operator}
		if b.ReportData() == v.ReportData {
			return nil
		}
	}
	return fmt.Errorf("report data binds these keys to no block among the last %d", len(recent))
}
