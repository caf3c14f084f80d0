package attest

import (
	"encoding/binary"
	"fmt"
)

// Quote header values.
const (
	quoteVersionSGX3 = 3
	quoteVersion4    = 4

	attKeyECDSAP256 = 2

	teeTypeSGX = 0x00000000
	teeTypeTDX = 0x00000081

	certDataPCKChain = 5 // concatenated PEM PCK certificate chain
	certDataQEReport = 6 // QE report certification data (v4)

	headerSize    = 48
	sgxReportSize = 384
	tdReportSize  = 584
	ecdsaSigSize  = 64
	ecdsaKeySize  = 64
)

// intelQEVendorID is the QE vendor ID of Intel's quoting enclaves.
var intelQEVendorID = [16]byte{0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07}

// Header is the 48-byte quote header.
type Header struct {
	Version            uint16
	AttestationKeyType uint16
	// TEEType is 0 for SGX and 0x81 for TDX (reserved, zero, in version 3).
	TEEType uint32
	// QESVN and PCESVN are set in version 3 headers only (reserved in v4).
	QESVN      uint16
	PCESVN     uint16
	QEVendorID [16]byte
	UserData   [20]byte
}

// EnclaveReport is an SGX report body (384 bytes): the application enclave
// in an SGX quote, and the quoting enclave in every quote.
type EnclaveReport struct {
	CPUSVN       [16]byte
	MiscSelect   uint32
	ISVExtProdID [16]byte
	// Attributes: flags (little-endian uint64, bit 1 = DEBUG) then XFRM.
	Attributes  [16]byte
	MrEnclave   [32]byte
	MrSigner    [32]byte
	ConfigID    [64]byte
	IsvProdID   uint16
	IsvSvn      uint16
	ConfigSvn   uint16
	IsvFamilyID [16]byte
	ReportData  [64]byte
}

// Debug reports whether the DEBUG attribute is set.
func (r *EnclaveReport) Debug() bool { return r.Attributes[0]&0x02 != 0 }

// TDReport is a TDX 1.0 TD report body (584 bytes).
type TDReport struct {
	TEETCBSVN      [16]byte
	MrSeam         [48]byte
	MrSignerSeam   [48]byte
	SeamAttributes [8]byte
	// TDAttributes: little-endian uint64, bit 0 = DEBUG.
	TDAttributes  [8]byte
	XFAM          [8]byte
	MrTd          [48]byte
	MrConfigID    [48]byte
	MrOwner       [48]byte
	MrOwnerConfig [48]byte
	Rtmrs         [4][48]byte
	ReportData    [64]byte
}

// Debug reports whether the TD is a debug TD.
func (r *TDReport) Debug() bool { return r.TDAttributes[0]&0x01 != 0 }

// Quote is a parsed ECDSA-P256 DCAP quote (SGX version 3 or 4, TDX version
// 4). Parsing checks structure only; Verify checks everything else.
type Quote struct {
	Header Header
	// Exactly one of SGX and TD is set.
	SGX *EnclaveReport
	TD  *TDReport

	Signature         [64]byte // ECDSA r||s over header and body, by AttestationKey
	AttestationKey    [64]byte // P-256 point x||y
	QEReport          EnclaveReport
	QEReportSignature [64]byte // ECDSA r||s over the QE report, by the PCK key
	QEAuthData        []byte
	// CertDataType is the type of the innermost certification data (5: PEM
	// PCK certificate chain) and CertData its bytes.
	CertDataType uint16
	CertData     []byte

	signed      []byte // header || body
	qeReportRaw []byte
}

// reader reads little-endian fields with bounds checks; the first failure
// sticks and later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("%w: %s: need %d bytes, have %d", ErrMalformedQuote, what, n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u16(what string) uint16 {
	if v := r.take(2, what); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if v := r.take(4, what); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (r *reader) array(dst []byte, what string) {
	if v := r.take(len(dst), what); v != nil {
		copy(dst, v)
	}
}

// sub returns a reader over the next n bytes (n from a length field).
func (r *reader) sub(n uint32, what string) *reader {
	if r.err != nil {
		return &reader{err: r.err}
	}
	if uint64(n) > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %s length %d exceeds the %d bytes left", ErrMalformedQuote, what, n, len(r.b))
		return &reader{err: r.err}
	}
	return &reader{b: r.take(int(n), what)}
}

// end fails unless every byte was consumed.
func (r *reader) end(what string) {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes after %s", ErrMalformedQuote, len(r.b), what)
	}
}

// ParseQuote parses an SGX (version 3 or 4) or TDX (version 4) ECDSA-P256
// quote. It checks the structure and lengths only and never panics; the
// returned quote is not verified.
func ParseQuote(b []byte) (*Quote, error) {
	r := &reader{b: b}
	q := &Quote{}
	h := &q.Header
	h.Version = r.u16("version")
	h.AttestationKeyType = r.u16("attestation key type")
	h.TEEType = r.u32("TEE type")
	h.QESVN = r.u16("QE SVN")
	h.PCESVN = r.u16("PCE SVN")
	r.array(h.QEVendorID[:], "QE vendor ID")
	r.array(h.UserData[:], "user data")
	if r.err != nil {
		return nil, r.err
	}
	switch h.Version {
	case quoteVersionSGX3, quoteVersion4:
	default:
		return nil, fmt.Errorf("%w: quote version %d (want 3 or 4)", ErrUnsupported, h.Version)
	}
	if h.AttestationKeyType != attKeyECDSAP256 {
		return nil, fmt.Errorf("%w: attestation key type %d (want 2, ECDSA-P256)", ErrUnsupported, h.AttestationKeyType)
	}
	switch {
	case h.TEEType == teeTypeSGX:
		raw := r.take(sgxReportSize, "SGX report body")
		if raw != nil {
			q.SGX = &EnclaveReport{}
			parseEnclaveReport(raw, q.SGX)
		}
	case h.TEEType == teeTypeTDX && h.Version == quoteVersion4:
		raw := r.take(tdReportSize, "TD report body")
		if raw != nil {
			q.TD = &TDReport{}
			parseTDReport(raw, q.TD)
		}
	default:
		return nil, fmt.Errorf("%w: TEE type %#x in a version %d quote", ErrUnsupported, h.TEEType, h.Version)
	}
	if r.err != nil {
		return nil, r.err
	}
	q.signed = b[: len(b)-len(r.b) : len(b)-len(r.b)]

	sig := r.sub(r.u32("signature data length"), "signature data")
	r.end("signature data")
	sig.array(q.Signature[:], "quote signature")
	sig.array(q.AttestationKey[:], "attestation key")
	qe := sig
	if h.Version == quoteVersion4 {
		typ := sig.u16("certification data type")
		qe = sig.sub(sig.u32("certification data size"), "certification data")
		sig.end("certification data")
		if sig.err == nil && typ != certDataQEReport {
			return nil, fmt.Errorf("%w: outer certification data type %d (want 6, QE report)", ErrUnsupported, typ)
		}
	}
	q.qeReportRaw = qe.take(sgxReportSize, "QE report")
	if q.qeReportRaw != nil {
		parseEnclaveReport(q.qeReportRaw, &q.QEReport)
	}
	qe.array(q.QEReportSignature[:], "QE report signature")
	q.QEAuthData = qe.sub(uint32(qe.u16("QE authentication data size")), "QE authentication data").b
	q.CertDataType = qe.u16("certification data type")
	q.CertData = qe.sub(qe.u32("certification data size"), "certification data").b
	qe.end("certification data")
	for _, e := range []error{r.err, sig.err, qe.err} {
		if e != nil {
			return nil, e
		}
	}
	return q, nil
}

func parseEnclaveReport(b []byte, r *EnclaveReport) {
	copy(r.CPUSVN[:], b[0:16])
	r.MiscSelect = binary.LittleEndian.Uint32(b[16:20])
	copy(r.ISVExtProdID[:], b[32:48])
	copy(r.Attributes[:], b[48:64])
	copy(r.MrEnclave[:], b[64:96])
	copy(r.MrSigner[:], b[128:160])
	copy(r.ConfigID[:], b[192:256])
	r.IsvProdID = binary.LittleEndian.Uint16(b[256:258])
	r.IsvSvn = binary.LittleEndian.Uint16(b[258:260])
	r.ConfigSvn = binary.LittleEndian.Uint16(b[260:262])
	copy(r.IsvFamilyID[:], b[304:320])
	copy(r.ReportData[:], b[320:384])
}

func parseTDReport(b []byte, r *TDReport) {
	copy(r.TEETCBSVN[:], b[0:16])
	copy(r.MrSeam[:], b[16:64])
	copy(r.MrSignerSeam[:], b[64:112])
	copy(r.SeamAttributes[:], b[112:120])
	copy(r.TDAttributes[:], b[120:128])
	copy(r.XFAM[:], b[128:136])
	copy(r.MrTd[:], b[136:184])
	copy(r.MrConfigID[:], b[184:232])
	copy(r.MrOwner[:], b[232:280])
	copy(r.MrOwnerConfig[:], b[280:328])
	for i := range r.Rtmrs {
		copy(r.Rtmrs[i][:], b[328+48*i:376+48*i])
	}
	copy(r.ReportData[:], b[520:584])
}
