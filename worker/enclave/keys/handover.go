package keys

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/worker/enclave/keystore"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
)

// generate makes the due generation if this gatekeeper is the designated
// one at this block and the chain has no public for it yet. The secret
// comes from the keystore; if there is none the loop generates it
// (GenerateMaster reuses one already there, never replaces it).
func (s *step) generate() {
	st := &s.st
	g := st.due()
	if _, ok := st.masterPublic(g); ok || st.holds(g) {
		return
	}
	if !bytes.Equal(keysapi.Designated(asPublicKeys(s.reg.ActiveGatekeepers()), st.DueSince, s.ctx.Height), s.ctx.Identity) {
		return
	}
	m, ok := s.ctx.Secrets.Master(g)
	if !ok {
		s.need(keystore.GenerateMaster{Generation: g})
		return
	}
	pub, err := MasterPublicKey(s.ctx.ChainID, m)
	if err != nil {
		s.ctx.Log.Error("cannot derive the master public key", "generation", g, "err", err)
		return
	}
	st.hold(g)
	if k := sentKey(sentMasterPublic, g); !st.wasSent(k) {
		s.eff.Send(keysapi.TopicMasterPublic, codec.MustMarshal(keysapi.MasterPublic{Generation: g, PublicKey: pub}))
		st.markSent(k)
	}
}

func asPublicKeys(keys [][]byte) []ed25519.PublicKey {
	out := make([]ed25519.PublicKey, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// MasterPublicKey is the public key a master key generation publishes.
func MasterPublicKey(chainID string, m derive.MasterKey) ([]byte, error) {
	k, err := m.EncryptionKey(chainID)
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}

// masterMatches reports whether the held secret of generation g derives
// the recorded public key.
func (m *Module) masterMatches(ctx *module.Context, g uint32) bool {
	want, ok := m.st.masterPublic(g)
	secret, held := ctx.Secrets.Master(g)
	if !ok || !held {
		return false
	}
	pub, err := MasterPublicKey(ctx.ChainID, secret)
	return err == nil && bytes.Equal(pub, want)
}

// masterHandouts seals every held generation to each active gatekeeper
// whose registration verified here and that may lack one of them.
func (s *step) masterHandouts() {
	st := &s.st
	if len(st.Held) == 0 {
		return
	}
	for _, n := range s.reg.Nodes() {
		if !n.Active || n.Role != registryapi.RoleGatekeeper || bytes.Equal(n.IdentityKey, s.ctx.Identity) {
			continue
		}
		a, ok := findMember(st.Attested, n.IdentityKey)
		if !ok || !bytes.Equal(a.EncryptionKey, n.EncryptionKey) {
			continue
		}
		if !slices.ContainsFunc(st.Held, func(g uint32) bool { return s.needsMaster(n.IdentityKey, g) }) {
			continue
		}
		if s.handMaster(n); s.stopped {
			return
		}
	}
}

// needsMaster: we did not send generation g to key, and key is not the
// gatekeeper that generated it.
func (m *Module) needsMaster(key []byte, g uint32) bool {
	if i, ok := m.st.masterIndex(g); ok && bytes.Equal(m.st.Masters[i].Sender, key) {
		return false
	}
	return !m.st.wasSent(sentKey(sentMasterHandout, g, key))
}

func (s *step) handMaster(n registryview.Node) {
	st := &s.st
	gens := make([]keysapi.GenerationKey, 0, len(st.Held))
	for _, g := range st.Held {
		m, ok := s.ctx.Secrets.Master(g)
		if !ok {
			s.ctx.Log.Error("a held master key generation is missing from the keystore", "generation", g)
			return
		}
		gens = append(gens, keysapi.GenerationKey{Generation: g, Secret: m[:]})
	}
	env, err := s.seal(envelope.MasterKeyHandout, n, codec.MustMarshal(gens))
	if err != nil {
		if !s.stopped {
			s.ctx.Log.Error("cannot seal the master key to a gatekeeper", "identity", fmt.Sprintf("%x", n.IdentityKey), "err", err)
		}
		return
	}
	s.eff.Send(keysapi.TopicMasterHandout, codec.MustMarshal(keysapi.Handout{Recipient: n.IdentityKey, Envelope: env}))
	for _, g := range st.Held {
		st.markSent(sentKey(sentMasterHandout, g, n.IdentityKey))
	}
	s.ctx.Log.Info("handed the master key to a gatekeeper", "identity", fmt.Sprintf("%x", n.IdentityKey), "generations", st.Held)
}
