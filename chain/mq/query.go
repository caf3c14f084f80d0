package mq

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/mq"
)

// Query implements module.Module.
func (Module) Query(r state.IterReader, path string, data []byte) (any, error) {
	switch path {
	case mq.QuerySequence:
		if len(data) != ed25519.PublicKeySize {
			return nil, module.ErrBadQuery.Wrapf("%s takes a %d-byte identity key, got %d bytes", mq.QuerySequence, ed25519.PublicKeySize, len(data))
		}
		return GetSequence(r, data)
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}
