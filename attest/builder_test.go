package attest

// Test helpers: a private PKI shaped like Intel's (root CA, PCK CA, PCK
// certificates with the SGX extension, TCB signing certificate), signed
// TCB info / QE identity bodies, CRLs, and SGX v3/v4 and TDX v4 quotes.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tdx-guest/pcs"
)

var (
	envNow   = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	oidPPID  = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 1}
	oidTCB   = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 2}
	oidPCEID = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 3}
	oidFMSPC = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 4}
	oidType  = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 5}
	testQE   = [32]byte{0x51, 0xe0}
	testTDQE = [32]byte{0x7d, 0xe0}
)

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type certSpec struct {
	cn        string
	serial    int64
	ca        bool
	notBefore time.Time
	notAfter  time.Time
	extra     []pkix.Extension
}

func issue(t testing.TB, s certSpec, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	skid := sha256.Sum256([]byte(s.cn))
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(s.serial),
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"Test Corporation"}},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		SubjectKeyId:          skid[:20],
		CRLDistributionPoints: []string{"https://example.test/" + strings.ReplaceAll(s.cn, " ", "") + ".crl"},
		ExtraExtensions:       s.extra,
	}
	if s.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// sgxExtension encodes the PCK certificate's SGX extension (OID
// 1.2.840.113741.1.13.1) as Intel does.
func sgxExtension(t testing.TB, fmspc [6]byte, pceID [2]byte, cpuSvn [16]byte, pceSvn uint16) pkix.Extension {
	t.Helper()
	type intItem struct {
		ID asn1.ObjectIdentifier
		V  int
	}
	type octItem struct {
		ID asn1.ObjectIdentifier
		V  []byte
	}
	type enumItem struct {
		ID asn1.ObjectIdentifier
		V  asn1.Enumerated
	}
	type seqItem struct {
		ID asn1.ObjectIdentifier
		V  []asn1.RawValue
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	var tcb []asn1.RawValue
	for i := range 16 {
		id := append(append(asn1.ObjectIdentifier{}, oidTCB...), i+1)
		tcb = append(tcb, raw(intItem{id, int(cpuSvn[i])}))
	}
	tcb = append(tcb,
		raw(intItem{append(append(asn1.ObjectIdentifier{}, oidTCB...), 17), int(pceSvn)}),
		raw(octItem{append(append(asn1.ObjectIdentifier{}, oidTCB...), 18), cpuSvn[:]}))
	ppid := sha256.Sum256(fmspc[:])
	items := []asn1.RawValue{
		raw(octItem{oidPPID, ppid[:16]}),
		raw(seqItem{oidTCB, tcb}),
		raw(octItem{oidPCEID, pceID[:]}),
		raw(octItem{oidFMSPC, fmspc[:]}),
		raw(enumItem{oidType, 0}),
	}
	v, err := asn1.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: pcs.OidSgxExtension, Value: v}
}

func rawSign(t testing.TB, k *ecdsa.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

func signedBody(t testing.TB, key string, v any, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"` + key + `":` + string(raw) + `,"signature":"` + hex.EncodeToString(rawSign(t, k, raw)) + `"}`)
}

func mkCRL(t testing.TB, issuer *x509.Certificate, k *ecdsa.PrivateKey, this, next time.Time, revoked ...*big.Int) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next}
	for _, s := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: this})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// level is a TCB info level in JSON form.
type level struct {
	sgx    [16]byte
	pceSvn int
	tdx    [16]byte
	status string
	adv    []string
}

func (l level) json(tdx bool) map[string]any {
	comps := func(b [16]byte) []map[string]any {
		var out []map[string]any
		for _, x := range b {
			out = append(out, map[string]any{"svn": x})
		}
		return out
	}
	tcb := map[string]any{"sgxtcbcomponents": comps(l.sgx), "pcesvn": l.pceSvn}
	if tdx {
		tcb["tdxtcbcomponents"] = comps(l.tdx)
	}
	m := map[string]any{"tcb": tcb, "tcbDate": "2029-01-01T00:00:00Z", "tcbStatus": l.status}
	if len(l.adv) > 0 {
		m["advisoryIDs"] = l.adv
	}
	return m
}

type isvLevelSpec struct {
	svn    int
	status string
	adv    []string
}

func isvLevels(ls []isvLevelSpec) []map[string]any {
	var out []map[string]any
	for _, l := range ls {
		m := map[string]any{"tcb": map[string]any{"isvsvn": l.svn}, "tcbDate": "2029-01-01T00:00:00Z", "tcbStatus": l.status}
		if len(l.adv) > 0 {
			m["advisoryIDs"] = l.adv
		}
		out = append(out, m)
	}
	return out
}

// env is one synthetic attestation: PKI, quote contents and collateral,
// all adjustable before build.
type env struct {
	t  testing.TB
	at time.Time

	rootKey, caKey, pckKey, signKey, attKey *ecdsa.PrivateKey
	root, ca, signer                        *x509.Certificate
	pckSerial                               int64
	pckNotBefore, pckNotAfter               time.Time

	// Platform, as in the PCK certificate.
	fmspc  [6]byte
	pceID  [2]byte
	cpuSvn [16]byte
	pceSvn uint16

	tdx     bool
	version uint16
	app     EnclaveReport // SGX application enclave
	td      TDReport
	qe      EnclaveReport
	auth    []byte

	tcbLevels    []level
	tcbInfo      map[string]any // built from the fields above unless set
	tcbInfoTweak func(map[string]any)
	qeIdentity   map[string]any
	qeTweak      func(map[string]any)

	crls          bool
	rootRevoked   []*big.Int
	pckRevoked    []*big.Int
	crlThis       time.Time
	crlNext       time.Time
	quoteTweak    func([]byte) []byte
	pckChainTweak func(pck *x509.Certificate) []*x509.Certificate
	tcbSignTweak  func(e *env) (signer *ecdsa.PrivateKey, chain []byte)
	collTweak     func(c *Collateral)
	bindTweak     func(rd *[64]byte) // applied to the QE report data after binding
	pckCRLSigner  func(e *env) (*x509.Certificate, *ecdsa.PrivateKey)
}

func newEnv(t testing.TB, tdx bool) *env {
	t.Helper()
	e := &env{
		t: t, at: envNow, tdx: tdx, version: 3,
		rootKey: mustKey(t), caKey: mustKey(t), pckKey: mustKey(t), signKey: mustKey(t), attKey: mustKey(t),
		pckSerial: 0x5ca1ab1e, pckNotBefore: envNow.AddDate(-1, 0, 0), pckNotAfter: envNow.AddDate(5, 0, 0),
		fmspc:  [6]byte{0x00, 0x90, 0x6e, 0xa1, 0x00, 0x00},
		pceID:  [2]byte{0, 0},
		cpuSvn: [16]byte{9, 9, 2, 2, 3, 1, 12},
		pceSvn: 13,
		auth:   []byte("0123456789abcdef0123456789abcdef"),
		crls:   true, crlThis: envNow.AddDate(0, 0, -1), crlNext: envNow.AddDate(0, 0, 29),
	}
	if tdx {
		e.version = 4
	}
	e.root = issue(t, certSpec{cn: "Test SGX Root CA", serial: 1, ca: true, notBefore: envNow.AddDate(-5, 0, 0), notAfter: envNow.AddDate(20, 0, 0)}, e.rootKey, nil, nil)
	e.ca = issue(t, certSpec{cn: "Test SGX PCK Processor CA", serial: 2, ca: true, notBefore: envNow.AddDate(-5, 0, 0), notAfter: envNow.AddDate(10, 0, 0)}, e.caKey, e.root, e.rootKey)
	e.signer = issue(t, certSpec{cn: "Test SGX TCB Signing", serial: 3, notBefore: envNow.AddDate(-5, 0, 0), notAfter: envNow.AddDate(5, 0, 0)}, e.signKey, e.root, e.rootKey)

	e.app.Attributes[0] = 0x05 // INIT | MODE64BIT
	e.app.Attributes[8] = 0x03
	e.app.MrEnclave = [32]byte{0xe1, 0xe2, 0xe3}
	e.app.MrSigner = [32]byte{0x51, 0x52, 0x53}
	e.app.IsvProdID, e.app.IsvSvn = 7, 3
	copy(e.app.ReportData[:], "synthetic report data")

	e.td.TEETCBSVN = [16]byte{4, 1, 7}
	e.td.MrSeam = [48]byte{0x5e}
	e.td.TDAttributes = [8]byte{0, 0, 0, 0x10}
	e.td.MrTd = [48]byte{0x7d, 1}
	for i := range e.td.Rtmrs {
		e.td.Rtmrs[i] = [48]byte{0xa0 + byte(i), 2}
	}
	copy(e.td.ReportData[:], "synthetic TD report data")

	e.qe.Attributes[0] = 0x11
	e.qe.Attributes[8] = 0xe7
	e.qe.IsvProdID, e.qe.IsvSvn = 1, 8
	e.qe.MrSigner = testQE
	if tdx {
		e.qe.IsvProdID, e.qe.MrSigner = 2, testTDQE
	}

	e.tcbLevels = []level{
		{sgx: [16]byte{9, 9, 2, 2, 3, 1, 12}, pceSvn: 13, tdx: [16]byte{4, 1, 7}, status: StatusUpToDate},
		{sgx: [16]byte{9, 9, 2, 2, 3, 1, 0}, pceSvn: 13, tdx: [16]byte{4, 1, 7}, status: StatusConfigurationNeeded, adv: []string{"INTEL-SA-00289"}},
		{sgx: [16]byte{5, 5, 2, 2, 3, 1, 0}, pceSvn: 11, tdx: [16]byte{2, 0, 5}, status: StatusOutOfDate, adv: []string{"INTEL-SA-00001"}},
	}
	return e
}

func (e *env) defaultTCBInfo() map[string]any {
	id := "SGX"
	if e.tdx {
		id = "TDX"
	}
	m := map[string]any{
		"id": id, "version": 3,
		"issueDate": e.at.AddDate(0, 0, -2).Format(time.RFC3339), "nextUpdate": e.at.AddDate(0, 0, 28).Format(time.RFC3339),
		"fmspc": strings.ToLower(hex.EncodeToString(e.fmspc[:])), "pceId": hex.EncodeToString(e.pceID[:]),
		"tcbType": 0, "tcbEvaluationDataNumber": 17,
	}
	var ls []map[string]any
	for _, l := range e.tcbLevels {
		ls = append(ls, l.json(e.tdx))
	}
	m["tcbLevels"] = ls
	if e.tdx {
		zero := strings.Repeat("00", 48)
		m["tdxModule"] = map[string]any{"mrsigner": zero, "attributes": "0000000000000000", "attributesMask": "FFFFFFFFFFFFFFFF"}
		m["tdxModuleIdentities"] = []map[string]any{
			{"id": "TDX_01", "mrsigner": zero, "attributes": "0000000000000000", "attributesMask": "FFFFFFFFFFFFFFFF",
				"tcbLevels": isvLevels([]isvLevelSpec{{4, StatusUpToDate, nil}, {2, StatusOutOfDate, []string{"INTEL-SA-00960"}}})},
			{"id": "TDX_03", "mrsigner": zero, "attributes": "0000000000000000", "attributesMask": "FFFFFFFFFFFFFFFF",
				"tcbLevels": isvLevels([]isvLevelSpec{{2, StatusUpToDate, nil}})},
		}
	}
	return m
}

func (e *env) defaultQEIdentity() map[string]any {
	id, signer, prod := "QE", testQE, 1
	if e.tdx {
		id, signer, prod = "TD_QE", testTDQE, 2
	}
	return map[string]any{
		"id": id, "version": 2,
		"issueDate": e.at.AddDate(0, 0, -3).Format(time.RFC3339), "nextUpdate": e.at.AddDate(0, 0, 27).Format(time.RFC3339),
		"tcbEvaluationDataNumber": 17, "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
		"attributes": "11000000000000000000000000000000", "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
		"mrsigner": strings.ToUpper(hex.EncodeToString(signer[:])), "isvprodid": prod,
		"tcbLevels": isvLevels([]isvLevelSpec{{8, StatusUpToDate, nil}, {4, StatusOutOfDate, []string{"INTEL-SA-00615"}}, {2, StatusRevoked, nil}}),
	}
}

func (e *env) pck() *x509.Certificate { return e.pckFrom(e.ca, e.caKey) }

func (e *env) pckFrom(ca *x509.Certificate, caKey *ecdsa.PrivateKey) *x509.Certificate {
	return issue(e.t, certSpec{cn: "Test SGX PCK Certificate", serial: e.pckSerial, notBefore: e.pckNotBefore, notAfter: e.pckNotAfter,
		extra: []pkix.Extension{sgxExtension(e.t, e.fmspc, e.pceID, e.cpuSvn, e.pceSvn)}}, e.pckKey, ca, caKey)
}

func marshalEnclaveReport(r *EnclaveReport) []byte {
	b := make([]byte, sgxReportSize)
	copy(b[0:16], r.CPUSVN[:])
	binary.LittleEndian.PutUint32(b[16:20], r.MiscSelect)
	copy(b[32:48], r.ISVExtProdID[:])
	copy(b[48:64], r.Attributes[:])
	copy(b[64:96], r.MrEnclave[:])
	copy(b[128:160], r.MrSigner[:])
	copy(b[192:256], r.ConfigID[:])
	binary.LittleEndian.PutUint16(b[256:258], r.IsvProdID)
	binary.LittleEndian.PutUint16(b[258:260], r.IsvSvn)
	binary.LittleEndian.PutUint16(b[260:262], r.ConfigSvn)
	copy(b[304:320], r.IsvFamilyID[:])
	copy(b[320:384], r.ReportData[:])
	return b
}

func marshalTDReport(r *TDReport) []byte {
	b := make([]byte, tdReportSize)
	copy(b[0:16], r.TEETCBSVN[:])
	copy(b[16:64], r.MrSeam[:])
	copy(b[64:112], r.MrSignerSeam[:])
	copy(b[112:120], r.SeamAttributes[:])
	copy(b[120:128], r.TDAttributes[:])
	copy(b[128:136], r.XFAM[:])
	copy(b[136:184], r.MrTd[:])
	copy(b[184:232], r.MrConfigID[:])
	copy(b[232:280], r.MrOwner[:])
	copy(b[280:328], r.MrOwnerConfig[:])
	for i := range r.Rtmrs {
		copy(b[328+48*i:376+48*i], r.Rtmrs[i][:])
	}
	copy(b[520:584], r.ReportData[:])
	return b
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// build returns the quote and its collateral.
func (e *env) build() ([]byte, Collateral) {
	t := e.t
	t.Helper()
	pck := e.pck()
	chain := []*x509.Certificate{pck, e.ca, e.root}
	if e.pckChainTweak != nil {
		chain = e.pckChainTweak(pck)
	}

	// Header and body.
	var q []byte
	q = append(q, le16(e.version)...)
	q = append(q, le16(attKeyECDSAP256)...)
	if e.tdx {
		q = append(q, le32(teeTypeTDX)...)
	} else {
		q = append(q, le32(teeTypeSGX)...)
	}
	q = append(q, le16(0)...)
	q = append(q, le16(0)...)
	q = append(q, intelQEVendorID[:]...)
	q = append(q, make([]byte, 20)...)
	if e.tdx {
		q = append(q, marshalTDReport(&e.td)...)
	} else {
		q = append(q, marshalEnclaveReport(&e.app)...)
	}

	// QE report binding the attestation key.
	pub, err := e.attKey.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	attPub := pub[1:] // x || y
	qe := e.qe
	h := sha256.Sum256(append(append([]byte{}, attPub...), e.auth...))
	qe.ReportData = [64]byte{}
	copy(qe.ReportData[:], h[:])
	if e.bindTweak != nil {
		e.bindTweak(&qe.ReportData)
	}
	qeRaw := marshalEnclaveReport(&qe)

	certData := append(pemOf(chain...), 0)
	var inner []byte
	inner = append(inner, qeRaw...)
	inner = append(inner, rawSign(t, e.pckKey, qeRaw)...)
	inner = append(inner, le16(uint16(len(e.auth)))...)
	inner = append(inner, e.auth...)
	inner = append(inner, le16(certDataPCKChain)...)
	inner = append(inner, le32(uint32(len(certData)))...)
	inner = append(inner, certData...)

	sig := rawSign(t, e.attKey, q)
	sigData := append(append([]byte{}, sig...), attPub...)
	if e.version == 4 {
		sigData = append(sigData, le16(certDataQEReport)...)
		sigData = append(sigData, le32(uint32(len(inner)))...)
	}
	sigData = append(sigData, inner...)
	q = append(q, le32(uint32(len(sigData)))...)
	q = append(q, sigData...)
	if e.quoteTweak != nil {
		q = e.quoteTweak(q)
	}

	// Collateral.
	ti := e.tcbInfo
	if ti == nil {
		ti = e.defaultTCBInfo()
	}
	if e.tcbInfoTweak != nil {
		e.tcbInfoTweak(ti)
	}
	qi := e.qeIdentity
	if qi == nil {
		qi = e.defaultQEIdentity()
	}
	if e.qeTweak != nil {
		e.qeTweak(qi)
	}
	signKey, signChain := e.signKey, pemOf(e.signer, e.root)
	if e.tcbSignTweak != nil {
		signKey, signChain = e.tcbSignTweak(e)
	}
	c := Collateral{
		TCBInfo:            signedBody(t, "tcbInfo", ti, signKey),
		TCBInfoIssuerChain: signChain,
		QEIdentity:         signedBody(t, "enclaveIdentity", qi, signKey),
	}
	if e.crls {
		c.QEIdentityIssuerChain = signChain
		c.RootCACRL = mkCRL(t, e.root, e.rootKey, e.crlThis, e.crlNext, e.rootRevoked...)
		crlCA, crlKey := e.ca, e.caKey
		if e.pckCRLSigner != nil {
			crlCA, crlKey = e.pckCRLSigner(e)
		}
		c.PCKCRL = mkCRL(t, crlCA, crlKey, e.crlThis, e.crlNext, e.pckRevoked...)
		c.PCKCRLIssuerChain = pemOf(e.ca, e.root)
	}
	if e.collTweak != nil {
		e.collTweak(&c)
	}
	return q, c
}

// verify builds and verifies with the env's root.
func (e *env) verify(opts ...Option) (Verified, error) {
	q, c := e.build()
	return Verify(q, c, e.at, append([]Option{WithRoot(e.root)}, opts...)...)
}

// allStatuses accepts every status but Revoked.
var allStatuses = Policy{AcceptedTCBStatuses: []string{StatusUpToDate, StatusSWHardeningNeeded, StatusConfigurationNeeded,
	StatusConfigurationAndSWHardeningNeeded, StatusOutOfDate, StatusOutOfDateConfigurationNeeded}}
