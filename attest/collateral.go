package attest

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/go-tdx-guest/pcs"
)

// Collateral is the Intel PCS material a DCAP quote is verified against.
//
// TCBInfo and QEIdentity are the PCS response bodies, byte for byte
// ({"tcbInfo":{...},"signature":"hex"} and {"enclaveIdentity":{...},
// "signature":"hex"}): the signatures cover the exact bytes of the inner
// values, so the bodies must not be re-encoded. The issuer chains are PEM
// (the SGX-TCB-Info-Issuer-Chain and SGX-Enclave-Identity-Issuer-Chain
// response headers, URL-decoded), the CRLs DER.
//
// Optional parts: when QEIdentityIssuerChain is empty the QE identity must
// be signed by the TCB info signing chain (Intel signs both with the same
// TCB signing certificate). Revocation is checked only with the CRLs that
// are given: RootCACRL checks every intermediate and signing certificate
// issued by the root, PCKCRL checks the PCK certificate (it must be the CRL
// of the CA that issued it, and is verified with that CA's key);
// PCKCRLIssuerChain, when given, must chain to the root and its first
// certificate must be the PCK certificate's issuer. Verified.
// RevocationChecked is true only when both CRLs were given, and a policy can
// require it.
type Collateral struct {
	TCBInfo               []byte `json:"tcb_info"`
	TCBInfoIssuerChain    []byte `json:"tcb_info_issuer_chain"`
	QEIdentity            []byte `json:"qe_identity"`
	QEIdentityIssuerChain []byte `json:"qe_identity_issuer_chain,omitempty"`
	PCKCRL                []byte `json:"pck_crl,omitempty"`
	PCKCRLIssuerChain     []byte `json:"pck_crl_issuer_chain,omitempty"`
	RootCACRL             []byte `json:"root_ca_crl,omitempty"`
}

// splitSigned splits a PCS body {"<key>": {...}, "signature": "hex"} into
// the exact bytes of the signed value and the 64-byte r||s signature.
func splitSigned(body []byte, key, what string) (raw, sig []byte, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrCollateral, what, err)
	}
	raw, ok := m[key]
	if !ok || len(m) != 2 {
		return nil, nil, fmt.Errorf("%w: %s: want exactly the keys %q and \"signature\"", ErrCollateral, what, key)
	}
	var sigHex string
	if err := json.Unmarshal(m["signature"], &sigHex); err != nil {
		return nil, nil, fmt.Errorf("%w: %s signature: %v", ErrCollateral, what, err)
	}
	sig, err = hex.DecodeString(sigHex)
	if err != nil || len(sig) != 64 {
		return nil, nil, fmt.Errorf("%w: %s signature is not 64 hex-encoded bytes", ErrCollateral, what)
	}
	return raw, sig, nil
}

// verifySigned checks the signature of a PCS body with the signing
// certificate of chain and returns the signed value's bytes.
func verifySigned(body []byte, key, what string, signer *x509.Certificate) ([]byte, error) {
	raw, sig, err := splitSigned(body, key, what)
	if err != nil {
		return nil, err
	}
	k, err := p256Key(signer)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, what, err)
	}
	if !verifyRawSig(k, raw, sig) {
		return nil, fmt.Errorf("%w: %s signature does not verify with %q", ErrSignature, what, signer.Subject.CommonName)
	}
	return raw, nil
}

func checkWindow(issue, next, at time.Time, what string) error {
	if issue.IsZero() || next.IsZero() {
		return fmt.Errorf("%w: %s lacks issueDate or nextUpdate", ErrCollateral, what)
	}
	if at.Before(issue) || at.After(next) {
		return fmt.Errorf("%w: %s valid from %s to %s, verification time %s", ErrExpired, what,
			issue.UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	return nil
}

func strictUnmarshal(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// parseTCBInfo decodes a verified TCB info value and checks its form.
func parseTCBInfo(raw []byte, kind Kind) (*pcs.TcbInfo, error) {
	var ti pcs.TcbInfo
	if err := strictUnmarshal(raw, &ti); err != nil {
		return nil, fmt.Errorf("%w: TCB info: %v", ErrCollateral, err)
	}
	wantID := map[Kind]string{KindSGX: "SGX", KindTDX: "TDX"}[kind]
	if ti.ID != wantID {
		return nil, fmt.Errorf("%w: TCB info id %q, want %q for a %s quote", ErrCollateral, ti.ID, wantID, kind)
	}
	if ti.Version != 3 {
		return nil, fmt.Errorf("%w: TCB info version %d, want 3", ErrCollateral, ti.Version)
	}
	if ti.TcbType != 0 {
		return nil, fmt.Errorf("%w: TCB info tcbType %d, want 0", ErrCollateral, ti.TcbType)
	}
	if ti.TcbEvaluationDataNumber < 0 || uint64(ti.TcbEvaluationDataNumber) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: TCB info tcbEvaluationDataNumber %d", ErrCollateral, ti.TcbEvaluationDataNumber)
	}
	if len(ti.TcbLevels) == 0 {
		return nil, fmt.Errorf("%w: TCB info has no TCB levels", ErrCollateral)
	}
	for i, l := range ti.TcbLevels {
		if len(l.Tcb.SgxTcbcomponents) != 16 {
			return nil, fmt.Errorf("%w: TCB info level %d has %d SGX TCB components, want 16", ErrCollateral, i, len(l.Tcb.SgxTcbcomponents))
		}
		if kind == KindTDX && len(l.Tcb.TdxTcbcomponents) != 16 {
			return nil, fmt.Errorf("%w: TCB info level %d has %d TDX TCB components, want 16", ErrCollateral, i, len(l.Tcb.TdxTcbcomponents))
		}
		if l.TcbStatus == "" {
			return nil, fmt.Errorf("%w: TCB info level %d has no status", ErrCollateral, i)
		}
	}
	return &ti, nil
}

// parseQEIdentity decodes a verified QE identity value and checks its form.
func parseQEIdentity(raw []byte, kind Kind) (*pcs.EnclaveIdentity, error) {
	var id pcs.EnclaveIdentity
	if err := strictUnmarshal(raw, &id); err != nil {
		return nil, fmt.Errorf("%w: QE identity: %v", ErrCollateral, err)
	}
	wantID := map[Kind]string{KindSGX: "QE", KindTDX: "TD_QE"}[kind]
	if id.ID != wantID {
		return nil, fmt.Errorf("%w: QE identity id %q, want %q for a %s quote", ErrCollateral, id.ID, wantID, kind)
	}
	if id.Version != 2 {
		return nil, fmt.Errorf("%w: QE identity version %d, want 2", ErrCollateral, id.Version)
	}
	if id.TcbEvaluationDataNumber < 0 || uint64(id.TcbEvaluationDataNumber) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: QE identity tcbEvaluationDataNumber %d", ErrCollateral, id.TcbEvaluationDataNumber)
	}
	if len(id.Miscselect.Bytes) != 4 || len(id.MiscselectMask.Bytes) != 4 ||
		len(id.Attributes.Bytes) != 16 || len(id.AttributesMask.Bytes) != 16 || len(id.Mrsigner.Bytes) != 32 {
		return nil, fmt.Errorf("%w: QE identity field sizes", ErrCollateral)
	}
	if len(id.TcbLevels) == 0 {
		return nil, fmt.Errorf("%w: QE identity has no TCB levels", ErrCollateral)
	}
	return &id, nil
}
