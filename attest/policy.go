package attest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// Hex is a byte string that encodes as a hex string in JSON (and any other
// text encoding) and as a byte string in CBOR.
type Hex []byte

// MarshalText encodes h as lower-case hex.
func (h Hex) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText decodes hex (either case, optional 0x prefix).
func (h *Hex) UnmarshalText(b []byte) error {
	b = bytes.TrimPrefix(b, []byte("0x"))
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return err
	}
	*h = out
	return nil
}

// SGXMeasurement admits SGX enclaves: by MRENCLAVE, or by MRSIGNER + ISV
// product ID + minimum ISV SVN, or by both (all must hold).
type SGXMeasurement struct {
	MrEnclave Hex    `json:"mr_enclave,omitempty"`
	MrSigner  Hex    `json:"mr_signer,omitempty"`
	IsvProdID uint16 `json:"isv_prod_id,omitempty"`
	MinIsvSvn uint16 `json:"min_isv_svn,omitempty"`
}

// TDXMeasurement admits TDs by MRTD and, where given (non-empty), RTMRs.
type TDXMeasurement struct {
	MrTd  Hex `json:"mr_td"`
	Rtmr0 Hex `json:"rtmr0,omitempty"`
	Rtmr1 Hex `json:"rtmr1,omitempty"`
	Rtmr2 Hex `json:"rtmr2,omitempty"`
	Rtmr3 Hex `json:"rtmr3,omitempty"`
}

// Policy says which verified quotes a chain admits. It is chain state:
// plain fields that encode in JSON and CBOR. The zero Policy admits any
// SGX or TDX measurement whose TCB status is UpToDate or SWHardeningNeeded,
// and refuses sim quotes and debug enclaves.
type Policy struct {
	// Measurements. If all three lists are empty, any measurement passes.
	// Once any is non-empty, a quote must match an entry of the list for
	// its kind (an empty list for that kind then admits nothing).
	SGX []SGXMeasurement `json:"sgx,omitempty"`
	TDX []TDXMeasurement `json:"tdx,omitempty"`
	// Sim lists admitted sim measurements (32 bytes each).
	Sim []Hex `json:"sim,omitempty"`

	// AcceptedTCBStatuses; empty means DefaultAcceptedStatuses. Revoked can
	// never be accepted.
	AcceptedTCBStatuses []string `json:"accepted_tcb_statuses,omitempty"`
	// MinTCBEvalDataNumber: refuse collateral with a lower TCB evaluation
	// data number (raise it for a TCB recovery).
	MinTCBEvalDataNumber uint32 `json:"min_tcb_eval_data_number,omitempty"`
	// MaxCollateralAgeSeconds: refuse collateral issued longer than this
	// before the verification time (0: only the collateral's own
	// nextUpdate applies).
	MaxCollateralAgeSeconds uint64 `json:"max_collateral_age_seconds,omitempty"`
	// RequireRevocationCheck: refuse quotes verified without both CRLs.
	RequireRevocationCheck bool `json:"require_revocation_check,omitempty"`

	// AllowSim admits sim quotes, which anyone can forge. Development
	// chains only. Sim quotes have no collateral: the TCB evaluation
	// number, collateral age and revocation requirements do not apply.
	AllowSim bool `json:"allow_sim,omitempty"`
	// UnsafeAllowDebug admits debug enclaves and TDs, whose memory the host
	// can read. Never on a production chain.
	UnsafeAllowDebug bool `json:"unsafe_allow_debug,omitempty"`
}

// Validate checks the policy's own form.
func (p Policy) Validate() error {
	for _, s := range p.AcceptedTCBStatuses {
		if !knownStatus(s) {
			return fmt.Errorf("%w: unknown TCB status %q", ErrPolicy, s)
		}
		if s == StatusRevoked {
			return fmt.Errorf("%w: TCB status Revoked cannot be accepted", ErrPolicy)
		}
	}
	for i, m := range p.SGX {
		if len(m.MrEnclave) == 0 && len(m.MrSigner) == 0 {
			return fmt.Errorf("%w: sgx[%d] names neither mr_enclave nor mr_signer", ErrPolicy, i)
		}
		if len(m.MrEnclave) != 0 && len(m.MrEnclave) != 32 || len(m.MrSigner) != 0 && len(m.MrSigner) != 32 {
			return fmt.Errorf("%w: sgx[%d]: mr_enclave and mr_signer are 32 bytes", ErrPolicy, i)
		}
		if len(m.MrSigner) == 0 && (m.IsvProdID != 0 || m.MinIsvSvn != 0) {
			return fmt.Errorf("%w: sgx[%d]: isv_prod_id and min_isv_svn need mr_signer", ErrPolicy, i)
		}
	}
	for i, m := range p.TDX {
		if len(m.MrTd) != 48 {
			return fmt.Errorf("%w: tdx[%d]: mr_td must be 48 bytes", ErrPolicy, i)
		}
		for j, r := range [][]byte{m.Rtmr0, m.Rtmr1, m.Rtmr2, m.Rtmr3} {
			if len(r) != 0 && len(r) != 48 {
				return fmt.Errorf("%w: tdx[%d]: rtmr%d must be empty or 48 bytes", ErrPolicy, i, j)
			}
		}
	}
	for i, m := range p.Sim {
		if len(m) != 32 {
			return fmt.Errorf("%w: sim[%d] must be 32 bytes", ErrPolicy, i)
		}
	}
	return nil
}

// AcceptsStatus reports whether the policy accepts a TCB status.
func (p Policy) AcceptsStatus(status string) bool {
	if status == StatusRevoked {
		return false
	}
	if len(p.AcceptedTCBStatuses) == 0 {
		return slices.Contains(DefaultAcceptedStatuses, status)
	}
	return slices.Contains(p.AcceptedTCBStatuses, status)
}

// Check applies the policy to a verified quote at time at. Run it again
// on stored Verified values when the policy changes (TCB recovery): nodes
// that no longer pass are evicted.
func (p Policy) Check(v Verified, at time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	switch v.TEE {
	case KindSim:
		if !p.AllowSim {
			return ErrSimNotAllowed
		}
	case KindSGX, KindTDX:
	default:
		return fmt.Errorf("%w: unknown TEE kind %q", ErrPolicy, v.TEE)
	}
	if v.Debug && !p.UnsafeAllowDebug {
		return fmt.Errorf("%w: the %s quote comes from a debug %s", ErrDebug, v.TEE, map[bool]string{true: "TD", false: "enclave"}[v.TEE == KindTDX])
	}
	if !p.AcceptsStatus(v.TCBStatus) {
		return &TCBStatusError{Status: v.TCBStatus, AdvisoryIDs: v.AdvisoryIDs}
	}
	if v.TEE != KindSim {
		if v.TCBEvalDataNumber < p.MinTCBEvalDataNumber {
			return fmt.Errorf("%w: TCB evaluation data number %d below the minimum %d", ErrPolicy, v.TCBEvalDataNumber, p.MinTCBEvalDataNumber)
		}
		if p.MaxCollateralAgeSeconds > 0 {
			if at.IsZero() {
				return fmt.Errorf("%w: collateral age needs a verification time", ErrPolicy)
			}
			age := at.Sub(v.CollateralIssued)
			if age < 0 || uint64(age/time.Second) > p.MaxCollateralAgeSeconds {
				return fmt.Errorf("%w: collateral issued %s is %s old at %s, the maximum is %ds", ErrPolicy,
					v.CollateralIssued.UTC().Format(time.RFC3339), age, at.UTC().Format(time.RFC3339), p.MaxCollateralAgeSeconds)
			}
		}
		if p.RequireRevocationCheck && !v.RevocationChecked {
			return fmt.Errorf("%w: revocation was not checked (root CA CRL and PCK CRL required)", ErrPolicy)
		}
	}
	if len(p.SGX) == 0 && len(p.TDX) == 0 && len(p.Sim) == 0 {
		return nil
	}
	switch v.TEE {
	case KindSGX:
		for _, m := range p.SGX {
			if m.matches(&v) {
				return nil
			}
		}
		return fmt.Errorf("%w: SGX enclave MRENCLAVE %x MRSIGNER %x ISVPRODID %d ISVSVN %d is not in the policy",
			ErrPolicy, v.MrEnclave, v.MrSigner, v.IsvProdID, v.IsvSvn)
	case KindTDX:
		for _, m := range p.TDX {
			if m.matches(&v) {
				return nil
			}
		}
		return fmt.Errorf("%w: TD MRTD %x (with its RTMRs) is not in the policy", ErrPolicy, v.MrTd)
	default:
		for _, m := range p.Sim {
			if bytes.Equal(m, v.MrEnclave[:]) {
				return nil
			}
		}
		return fmt.Errorf("%w: sim measurement %x is not in the policy", ErrPolicy, v.MrEnclave)
	}
}

func (m *SGXMeasurement) matches(v *Verified) bool {
	if len(m.MrEnclave) != 0 && !bytes.Equal(m.MrEnclave, v.MrEnclave[:]) {
		return false
	}
	if len(m.MrSigner) != 0 {
		if !bytes.Equal(m.MrSigner, v.MrSigner[:]) || m.IsvProdID != v.IsvProdID || v.IsvSvn < m.MinIsvSvn {
			return false
		}
	}
	return true
}

func (m *TDXMeasurement) matches(v *Verified) bool {
	if !bytes.Equal(m.MrTd, v.MrTd[:]) {
		return false
	}
	for i, r := range [][]byte{m.Rtmr0, m.Rtmr1, m.Rtmr2, m.Rtmr3} {
		if len(r) != 0 && !bytes.Equal(r, v.Rtmrs[i][:]) {
			return false
		}
	}
	return true
}
