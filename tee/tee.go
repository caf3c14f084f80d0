// Package tee is the platform layer for the code that runs inside a Trusted
// Execution Environment: one small interface, Platform, implemented by a
// software simulation (tee/sim), Intel SGX through Gramine (tee/gramine) and
// Intel TDX through the Linux configfs-tsm report interface (tee/tdx).
//
// A platform does three things: it produces attestation evidence (a quote)
// that binds 64 bytes of report data chosen by the caller, it seals local data
// so that only the same code on the same machine can read it back, and it
// reports the measurement of the running code. Verifying quotes is not done
// here: that is the chain's job (package attest).
//
// Sealing is implemented once, by Sealer, on top of a key each platform
// provides; see Sealer for the format.
package tee

import "errors"

// Kind names a TEE platform. It appears in configuration and on chain.
type Kind string

// The platform kinds.
const (
	// KindSim is the software simulation: no protection at all.
	KindSim Kind = "sim"
	// KindSGX is Intel SGX (through Gramine).
	KindSGX Kind = "sgx"
	// KindTDX is Intel TDX (through configfs-tsm).
	KindTDX Kind = "tdx"
)

// Platform is what the enclave runtime needs from its TEE.
type Platform interface {
	Kind() Kind
	// Quote produces attestation evidence binding 64 bytes of report data.
	Quote(reportData [64]byte) ([]byte, error)
	// Seal encrypts data so that only this enclave (same measurement on the
	// same platform) can Unseal it; label domain-separates uses.
	Seal(label string, plaintext []byte) ([]byte, error)
	// Unseal reverses Seal. It fails with an error matching ErrUnsealFailed
	// for data sealed by another enclave, under another label, or modified.
	Unseal(label string, sealed []byte) ([]byte, error)
	// Measurement identifies the running code (MRENCLAVE for SGX,
	// MRTD-derived for TDX, binary hash for sim).
	Measurement() []byte
}

var (
	// ErrUnsealFailed means sealed data could not be opened: it was sealed
	// by another enclave (another measurement or machine), under another
	// label, or it was modified or truncated.
	ErrUnsealFailed = errors.New("tee: unseal failed: sealed by another enclave, under another label, or tampered with")

	// ErrSealingUnavailable means the platform has no sealing key (TDX has no
	// architectural one, and none was configured).
	ErrSealingUnavailable = errors.New("tee: sealing unavailable on this platform")
)
