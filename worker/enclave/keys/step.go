package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/worker/enclave/keystore"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
)

// step is one call into the module with the effects it collects. Once it
// asks for a secret it is stopped: nothing after that request may run
// before the secret is stored, or a replay would send in another order.
type step struct {
	*Module
	ctx     *module.Context
	eff     module.Effects
	stopped bool
}

func (m *Module) step(ctx *module.Context) *step { return &step{Module: m, ctx: ctx} }

// need asks the loop for a keystore write and stops the step.
func (s *step) need(w keystore.Write) {
	s.eff.Store(w)
	s.stopped = true
}

// errAsked: the step asked the loop for a secret and stopped.
var errAsked = errors.New("asked the keystore for a sealed copy")

// seal returns plain sealed to node n for purpose p, bound to n's
// identity key, from the keystore; if it was never sealed it asks the
// loop to seal and keep it (so a replay sends the same bytes) and stops.
// A node whose encryption key is unusable gets nothing.
func (s *step) seal(p envelope.Purpose, n registryview.Node, plain []byte) ([]byte, error) {
	id := sha256.New()
	for _, part := range [][]byte{[]byte(p.Name()), n.IdentityKey, n.EncryptionKey, plain} {
		id.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		id.Write(part)
	}
	sum := id.Sum(nil)
	if env, ok := s.ctx.Secrets.Sealed(sum); ok {
		return env, nil
	}
	if _, err := envelope.ParsePublicKey(envelope.Default, n.EncryptionKey); err != nil {
		return nil, err
	}
	s.need(keystore.Seal{ID: sum, Purpose: p, IdentityKey: bytes.Clone(n.IdentityKey), EncryptionKey: bytes.Clone(n.EncryptionKey), Plain: plain})
	return nil, errAsked
}
