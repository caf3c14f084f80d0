package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-tdx-guest/pcs"
)

// Kind is the kind of TEE a quote comes from.
type Kind string

// TEE kinds.
const (
	KindSGX Kind = "sgx"
	KindTDX Kind = "tdx"
	KindSim Kind = "sim"
)

// Verified describes a quote that verified.
type Verified struct {
	TEE Kind `json:"tee"`

	// SGX enclave (and sim: MrEnclave is the sim measurement).
	MrEnclave     [32]byte `json:"mr_enclave"`
	MrSigner      [32]byte `json:"mr_signer"`
	IsvProdID     uint16   `json:"isv_prod_id"`
	IsvSvn        uint16   `json:"isv_svn"`
	SGXAttributes [16]byte `json:"sgx_attributes"`

	// TDX trust domain.
	MrTd         [48]byte    `json:"mr_td"`
	Rtmrs        [4][48]byte `json:"rtmrs"`
	MrSeam       [48]byte    `json:"mr_seam"`
	MrConfigID   [48]byte    `json:"mr_config_id"`
	MrOwner      [48]byte    `json:"mr_owner"`
	TDAttributes [8]byte     `json:"td_attributes"`

	ReportData [64]byte `json:"report_data"`
	// Debug: a debug enclave or TD (only ever returned with
	// UnsafeAllowDebug).
	Debug bool `json:"debug"`

	// TCBStatus is the platform's TCB status after folding in the quoting
	// enclave's and (TDX) the TDX module's status; AdvisoryIDs the union of
	// their advisories.
	TCBStatus   string   `json:"tcb_status"`
	AdvisoryIDs []string `json:"advisory_ids,omitempty"`
	// TCBEvalDataNumber is the lower of the TCB info's and QE identity's
	// TCB evaluation data numbers; CollateralIssued the earlier of their
	// issue dates.
	TCBEvalDataNumber uint32    `json:"tcb_eval_data_number"`
	CollateralIssued  time.Time `json:"collateral_issued"`
	// FMSPC of the platform, upper-case hex.
	FMSPC string `json:"fmspc,omitempty"`
	// RevocationChecked: both the root CA CRL and the PCK CRL were given
	// and checked.
	RevocationChecked bool `json:"revocation_checked"`
}

type config struct {
	root       *x509.Certificate
	policy     Policy
	allowSim   bool
	allowDebug bool
}

// Option configures Verify.
type Option func(*config)

// WithRoot sets the trusted root certificate instead of Intel's SGX Root CA
// (for tests with a private PKI).
func WithRoot(root *x509.Certificate) Option { return func(c *config) { c.root = root } }

// WithPolicy applies p to the verified quote (default: the zero Policy,
// which accepts any measurement with status UpToDate or SWHardeningNeeded
// and refuses sim quotes and debug enclaves).
func WithPolicy(p Policy) Option { return func(c *config) { c.policy = p } }

// AllowSim accepts sim quotes (signed by the public development key: they
// prove nothing) in addition to whatever the policy says.
func AllowSim() Option { return func(c *config) { c.allowSim = true } }

// UnsafeAllowDebug accepts debug enclaves and debug TDs, whose memory the
// host can read and write. Never on a production chain.
func UnsafeAllowDebug() Option { return func(c *config) { c.allowDebug = true } }

// Verify verifies quote (an SGX DCAP quote v3/v4, a TDX quote v4, or a sim
// quote) against the collateral at time at, then applies the policy (see
// WithPolicy). It is deterministic: it reads no clock and does no I/O. On
// error the returned Verified is the zero value.
func Verify(quote []byte, c Collateral, at time.Time, opts ...Option) (Verified, error) {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.root == nil {
		cfg.root = intelRoot()
	}
	p := cfg.policy
	p.AllowSim = p.AllowSim || cfg.allowSim
	p.UnsafeAllowDebug = p.UnsafeAllowDebug || cfg.allowDebug
	if err := p.Validate(); err != nil {
		return Verified{}, err
	}
	if at.IsZero() {
		return Verified{}, fmt.Errorf("%w: no verification time given", ErrExpired)
	}
	var v Verified
	var err error
	if IsSimQuote(quote) {
		if !p.AllowSim {
			return Verified{}, ErrSimNotAllowed
		}
		v, err = verifySim(quote)
	} else {
		v, err = verifyDCAP(quote, &c, at, cfg.root)
	}
	if err != nil {
		return Verified{}, err
	}
	if err := p.Check(v, at); err != nil {
		return Verified{}, err
	}
	return v, nil
}

func verifyDCAP(b []byte, c *Collateral, at time.Time, root *x509.Certificate) (Verified, error) {
	q, err := ParseQuote(b)
	if err != nil {
		return Verified{}, err
	}
	if q.Header.QEVendorID != intelQEVendorID {
		return Verified{}, fmt.Errorf("%w: QE vendor %x is not Intel", ErrUnsupported, q.Header.QEVendorID)
	}
	kind := KindSGX
	if q.TD != nil {
		kind = KindTDX
	}
	if q.CertDataType != certDataPCKChain {
		return Verified{}, fmt.Errorf("%w: certification data type %d (want 5, PCK certificate chain)", ErrUnsupported, q.CertDataType)
	}

	// PCK certificate chain, to the pinned root.
	certs, err := parsePEMChain(q.CertData, "PCK certificate chain")
	if err != nil {
		return Verified{}, err
	}
	chain, err := verifyChain(certs, root, at, 3, "PCK certificate chain")
	if err != nil {
		return Verified{}, err
	}
	pck, pckCA := chain[0], chain[1]
	pckKey, err := p256Key(pck)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: PCK certificate: %v", ErrCertificate, err)
	}
	ext, err := pcs.PckCertificateExtensions(pck)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: PCK certificate SGX extensions: %v", ErrCertificate, err)
	}
	fmspc, err1 := hex.DecodeString(ext.FMSPC)
	pceID, err2 := hex.DecodeString(ext.PCEID)
	if err1 != nil || err2 != nil || len(fmspc) != 6 || len(pceID) != 2 || len(ext.TCB.CPUSvnComponents) != 16 || ext.TCB.CPUSvn == nil {
		return Verified{}, fmt.Errorf("%w: PCK certificate lacks FMSPC, PCE ID or TCB", ErrCertificate)
	}

	// Revocation, with the CRLs given.
	var rootCRL *crl
	if len(c.RootCACRL) > 0 {
		if rootCRL, err = checkCRL(c.RootCACRL, root, at, "root CA CRL"); err != nil {
			return Verified{}, err
		}
		if err := rootCRL.check(pckCA, "PCK CA certificate"); err != nil {
			return Verified{}, err
		}
	}
	if len(c.PCKCRL) > 0 {
		if len(c.PCKCRLIssuerChain) > 0 {
			ccerts, err := parsePEMChain(c.PCKCRLIssuerChain, "PCK CRL issuer chain")
			if err != nil {
				return Verified{}, err
			}
			// Normally the PCK CA already verified above (and the root):
			// nothing to check again. Anything else is verified on its own
			// for a precise error, and refused.
			same := ccerts[0].Equal(pckCA) && len(ccerts) <= 2 && (len(ccerts) == 1 || ccerts[1].Equal(root))
			cchain := ccerts
			if !same {
				if cchain, err = verifyChain(ccerts, root, at, 2, "PCK CRL issuer chain"); err != nil {
					return Verified{}, err
				}
			}
			if !cchain[0].Equal(pckCA) {
				return Verified{}, fmt.Errorf("%w: PCK CRL issuer chain is for %q, the PCK certificate is issued by %q",
					ErrCollateral, cchain[0].Subject.CommonName, pckCA.Subject.CommonName)
			}
		}
		pckCRL, err := checkCRL(c.PCKCRL, pckCA, at, "PCK CRL")
		if err != nil {
			return Verified{}, err
		}
		if err := pckCRL.check(pck, "PCK certificate"); err != nil {
			return Verified{}, err
		}
	}

	// QE report, signed by the PCK key, binding the attestation key.
	if !verifyRawSig(pckKey, q.qeReportRaw, q.QEReportSignature[:]) {
		return Verified{}, fmt.Errorf("%w: QE report signature does not verify with the PCK key", ErrSignature)
	}
	h := sha256.New()
	h.Write(q.AttestationKey[:])
	h.Write(q.QEAuthData)
	rd := q.QEReport.ReportData
	if !bytes.Equal(h.Sum(nil), rd[:32]) || !allZero(rd[32:]) {
		return Verified{}, fmt.Errorf("%w: QE report data does not bind the attestation key and QE authentication data", ErrSignature)
	}
	attKey, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append([]byte{4}, q.AttestationKey[:]...))
	if err != nil {
		return Verified{}, fmt.Errorf("%w: attestation key: %v", ErrSignature, err)
	}
	if !verifyRawSig(attKey, q.signed, q.Signature[:]) {
		return Verified{}, fmt.Errorf("%w: quote signature does not verify with the attestation key", ErrSignature)
	}

	// TCB info.
	if len(c.TCBInfo) == 0 {
		return Verified{}, fmt.Errorf("%w: TCB info missing", ErrCollateral)
	}
	tcbChain, err := verifySigningChain(c.TCBInfoIssuerChain, root, at, "TCB info issuer chain")
	if err != nil {
		return Verified{}, err
	}
	if err := rootCRL.check(tcbChain[0], "TCB signing certificate"); err != nil {
		return Verified{}, err
	}
	raw, err := verifySigned(c.TCBInfo, "tcbInfo", "TCB info", tcbChain[0])
	if err != nil {
		return Verified{}, err
	}
	ti, err := parseTCBInfo(raw, kind)
	if err != nil {
		return Verified{}, err
	}
	if err := checkWindow(ti.IssueDate, ti.NextUpdate, at, "TCB info"); err != nil {
		return Verified{}, err
	}
	if tf, err := hex.DecodeString(ti.Fmspc); err != nil || !bytes.Equal(tf, fmspc) {
		return Verified{}, fmt.Errorf("%w: TCB info is for FMSPC %s, the PCK certificate has %X", ErrCollateral, ti.Fmspc, fmspc)
	}
	if tp, err := hex.DecodeString(ti.PceID); err != nil || !bytes.Equal(tp, pceID) {
		return Verified{}, fmt.Errorf("%w: TCB info is for PCE ID %s, the PCK certificate has %X", ErrCollateral, ti.PceID, pceID)
	}

	// QE identity.
	if len(c.QEIdentity) == 0 {
		return Verified{}, fmt.Errorf("%w: QE identity missing", ErrCollateral)
	}
	qeChain := tcbChain
	if len(c.QEIdentityIssuerChain) > 0 && !bytes.Equal(c.QEIdentityIssuerChain, c.TCBInfoIssuerChain) {
		if qeChain, err = verifySigningChain(c.QEIdentityIssuerChain, root, at, "QE identity issuer chain"); err != nil {
			return Verified{}, err
		}
		if err := rootCRL.check(qeChain[0], "QE identity signing certificate"); err != nil {
			return Verified{}, err
		}
	}
	raw, err = verifySigned(c.QEIdentity, "enclaveIdentity", "QE identity", qeChain[0])
	if err != nil {
		return Verified{}, err
	}
	qid, err := parseQEIdentity(raw, kind)
	if err != nil {
		return Verified{}, err
	}
	if err := checkWindow(qid.IssueDate, qid.NextUpdate, at, "QE identity"); err != nil {
		return Verified{}, err
	}
	qeLevel, err := checkQE(&q.QEReport, qid)
	if err != nil {
		return Verified{}, err
	}

	// Platform TCB level.
	start := 0
	var tee []byte
	var moduleLevel *pcs.TcbLevel
	if q.TD != nil {
		tee = q.TD.TEETCBSVN[:]
		if start, moduleLevel, err = checkTDXModule(q.TD, ti); err != nil {
			return Verified{}, err
		}
	}
	level, err := platformTCB(ti, ext.TCB.CPUSvnComponents, ext.TCB.PCESvn, tee, start)
	if err != nil {
		return Verified{}, err
	}
	res := tcbResult{status: string(level.TcbStatus)}
	res.addAdvisories(level.AdvisoryIDs)
	if moduleLevel != nil {
		if err := res.converge(moduleLevel.TcbStatus, "TDX module"); err != nil {
			return Verified{}, err
		}
		res.addAdvisories(moduleLevel.AdvisoryIDs)
	}
	if err := res.converge(qeLevel.TcbStatus, "QE"); err != nil {
		return Verified{}, err
	}
	res.addAdvisories(qeLevel.AdvisoryIDs)

	v := Verified{
		TEE:               kind,
		TCBStatus:         res.status,
		AdvisoryIDs:       res.advisories,
		TCBEvalDataNumber: uint32(min(ti.TcbEvaluationDataNumber, qid.TcbEvaluationDataNumber)),
		CollateralIssued:  ti.IssueDate.UTC(),
		FMSPC:             strings.ToUpper(hex.EncodeToString(fmspc)),
		RevocationChecked: len(c.RootCACRL) > 0 && len(c.PCKCRL) > 0,
	}
	if qid.IssueDate.Before(v.CollateralIssued) {
		v.CollateralIssued = qid.IssueDate.UTC()
	}
	if s := q.SGX; s != nil {
		v.MrEnclave, v.MrSigner = s.MrEnclave, s.MrSigner
		v.IsvProdID, v.IsvSvn = s.IsvProdID, s.IsvSvn
		v.SGXAttributes = s.Attributes
		v.ReportData = s.ReportData
		v.Debug = s.Debug()
	} else {
		td := q.TD
		v.MrTd, v.Rtmrs, v.MrSeam = td.MrTd, td.Rtmrs, td.MrSeam
		v.MrConfigID, v.MrOwner, v.TDAttributes = td.MrConfigID, td.MrOwner, td.TDAttributes
		v.ReportData = td.ReportData
		v.Debug = td.Debug()
	}
	return v, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
