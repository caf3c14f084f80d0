package attest

import (
	"errors"
	"strings"
)

// Error kinds. Every error returned by this package wraps exactly one of
// these (test with errors.Is); the text after the kind gives the detail.
var (
	// ErrMalformedQuote: the quote bytes do not parse.
	ErrMalformedQuote = errors.New("attest: malformed quote")
	// ErrUnsupported: a well-formed quote of a kind this package does not
	// verify (version, attestation key type, TEE type, certification data).
	ErrUnsupported = errors.New("attest: unsupported quote")
	// ErrCollateral: collateral missing, malformed, or not for this quote
	// (wrong FMSPC, PCE ID, TEE kind, version).
	ErrCollateral = errors.New("attest: bad collateral")
	// ErrCertificate: a certificate or CRL does not chain to the trusted
	// root or is otherwise unacceptable.
	ErrCertificate = errors.New("attest: certificate verification failed")
	// ErrRevoked: a certificate in use is listed in a CRL.
	ErrRevoked = errors.New("attest: certificate revoked")
	// ErrExpired: the verification time is outside the validity window of a
	// certificate, CRL, TCB info or QE identity.
	ErrExpired = errors.New("attest: outside validity window")
	// ErrSignature: a signature or a hash binding does not verify.
	ErrSignature = errors.New("attest: signature verification failed")
	// ErrQEIdentity: the quoting enclave does not match its QE identity.
	ErrQEIdentity = errors.New("attest: quoting enclave identity mismatch")
	// ErrTCBStatus: the platform's TCB status is not acceptable, or no TCB
	// level matches it. See TCBStatusError for the status.
	ErrTCBStatus = errors.New("attest: TCB status not accepted")
	// ErrTDXModule: the TDX module does not match the TCB info's TDX module
	// identity (MRSIGNERSEAM, SEAMATTRIBUTES).
	ErrTDXModule = errors.New("attest: TDX module identity mismatch")
	// ErrDebug: a debug enclave or debug TD, refused unless
	// UnsafeAllowDebug.
	ErrDebug = errors.New("attest: debug enclave refused")
	// ErrPolicy: the verified quote does not pass the policy (measurement,
	// TCB evaluation data number, collateral age, sim quotes) or the policy
	// itself is invalid.
	ErrPolicy = errors.New("attest: refused by policy")
)

// ErrSimNotAllowed is returned for a sim quote when sim quotes are not
// allowed. It wraps ErrPolicy.
var ErrSimNotAllowed = &simNotAllowedError{}

type simNotAllowedError struct{}

func (*simNotAllowedError) Error() string {
	return "attest: sim quotes are not accepted by this chain"
}
func (*simNotAllowedError) Unwrap() error { return ErrPolicy }

// TCBStatusError reports a TCB status the verifier does not accept. It
// wraps ErrTCBStatus (and ErrRevoked when the status is Revoked).
type TCBStatusError struct {
	Status      string
	AdvisoryIDs []string
}

func (e *TCBStatusError) Error() string {
	s := "attest: TCB status " + e.Status + " not accepted"
	if len(e.AdvisoryIDs) > 0 {
		s += " (advisories " + strings.Join(e.AdvisoryIDs, ", ") + ")"
	}
	return s
}

// Unwrap returns the kinds this error belongs to.
func (e *TCBStatusError) Unwrap() []error {
	if e.Status == StatusRevoked {
		return []error{ErrTCBStatus, ErrRevoked}
	}
	return []error{ErrTCBStatus}
}
