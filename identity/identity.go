// Package identity is what binds a TEE node's keys to its attestation: the
// 64 bytes of report data its quote must carry. The enclave computes them
// when it asks for a quote and the chain recomputes them when it registers
// the node, so both sides share this one definition.
package identity

import (
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/sigctx"
)

// Binding is everything the report data commits to.
type Binding struct {
	ChainID       string
	AnchorHash    []byte // hash of a recent block: the quote is fresher than it
	IdentityKey   []byte // the node's ed25519 public key
	EncryptionKey []byte // the node's HPKE public key
	Operator      address.Address
}

// ReportData is the domain-separated hash of the binding in the first 32
// bytes, zeros after: a quote made for other keys, another operator, another
// chain or an older anchor carries different report data.
func (b Binding) ReportData() [64]byte {
	h := sigctx.RegistrationReport.Hash(b.ChainID, b.AnchorHash, b.IdentityKey, b.EncryptionKey, b.Operator[:])
	var rd [64]byte
	copy(rd[:], h[:])
	return rd
}
