package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

var phalaAt = time.Unix(1700956800, 0) // 2023-11-26T00:00:00Z

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIntelRoot(t *testing.T) {
	fp := sha256.Sum256(IntelSGXRootCA().Raw)
	const want = "44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3"
	if got := strings.ToUpper(hex.EncodeToString(fp[:])); got != want {
		t.Fatalf("root fingerprint %s, want %s", got, want)
	}
	// The testdata issuer chains end with the same certificate.
	for _, name := range []string{"tcb_info_issuer_chain.pem", "qe_identity_issuer_chain.pem", "pck_crl_issuer_chain.pem"} {
		rest := readTestdata(t, "sgx-dcap-v3-phala", name)
		var last []byte
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			last = b.Bytes
		}
		if sha256.Sum256(last) != fp {
			t.Errorf("%s does not end with the Intel root", name)
		}
	}
}

var acceptConfigAndSW = Policy{AcceptedTCBStatuses: []string{StatusUpToDate, StatusSWHardeningNeeded, StatusConfigurationAndSWHardeningNeeded}}

func TestPhalaQuote(t *testing.T) {
	q, c := phalaCollateral(t)
	v, err := Verify(q, c, phalaAt, WithPolicy(acceptConfigAndSW))
	if err != nil {
		t.Fatal(err)
	}
	var rd [64]byte
	copy(rd[:], "Hello, world!")
	if v.TEE != KindSGX ||
		hex.EncodeToString(v.MrEnclave[:]) != "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb" ||
		hex.EncodeToString(v.MrSigner[:]) != "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6" ||
		v.ReportData != rd || v.Debug || v.FMSPC != "00A067110000" ||
		v.TCBStatus != StatusConfigurationAndSWHardeningNeeded ||
		strings.Join(v.AdvisoryIDs, ",") != "INTEL-SA-00289,INTEL-SA-00615" ||
		v.TCBEvalDataNumber != 16 || !v.RevocationChecked ||
		!v.CollateralIssued.Equal(ts(t, "2023-11-21T00:06:09Z")) {
		t.Fatalf("unexpected %+v", v)
	}

	// The default statuses refuse it, naming the status.
	_, err = Verify(q, c, phalaAt)
	var se *TCBStatusError
	if !errors.As(err, &se) || se.Status != StatusConfigurationAndSWHardeningNeeded ||
		!strings.Contains(err.Error(), "ConfigurationAndSWHardeningNeeded") || !errors.Is(err, ErrTCBStatus) {
		t.Fatalf("default policy: %v", err)
	}

	// Validity window: the latest issue (QE identity, 2023-11-21T00:39:26Z)
	// to the earliest next update (TCB info, 2023-12-21T00:06:09Z).
	for _, tc := range []struct {
		at string
		ok bool
	}{
		{"2023-11-21T00:00:00Z", false}, // before the TCB info issue
		{"2023-11-21T00:06:09Z", false}, // TCB info issued, PCK CRL and QE identity not yet
		{"2023-11-21T00:39:25Z", false},
		{"2023-11-21T00:39:26Z", true},
		{"2023-12-21T00:06:09Z", true},
		{"2023-12-21T00:06:10Z", false}, // after the TCB info's nextUpdate
		{"2024-06-01T00:00:00Z", false},
	} {
		_, err := Verify(q, c, ts(t, tc.at), WithPolicy(acceptConfigAndSW))
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrExpired) {
			t.Errorf("at %s: %v", tc.at, err)
		}
	}
	// Without CRLs and the QE identity the TCB info alone bounds it.
	c2 := Collateral{TCBInfo: c.TCBInfo, TCBInfoIssuerChain: c.TCBInfoIssuerChain, QEIdentity: c.QEIdentity}
	if _, err := Verify(q, c2, ts(t, "2023-11-21T00:06:08Z"), WithPolicy(acceptConfigAndSW)); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "TCB info") {
		t.Errorf("before TCB info issue: %v", err)
	}

	// Policies on the real quote.
	mre := mustHex(t, "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb")
	mrs := mustHex(t, "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6")
	for _, tc := range []struct {
		name string
		mod  func(p *Policy)
		want error
	}{
		{"mrenclave listed", func(p *Policy) { p.SGX = []SGXMeasurement{{MrEnclave: mre}} }, nil},
		{"mrenclave not listed", func(p *Policy) { p.SGX = []SGXMeasurement{{MrEnclave: mrs}} }, ErrPolicy},
		{"mrsigner listed", func(p *Policy) { p.SGX = []SGXMeasurement{{MrSigner: mrs}} }, nil},
		{"mrsigner, svn too low", func(p *Policy) { p.SGX = []SGXMeasurement{{MrSigner: mrs, MinIsvSvn: 1}} }, ErrPolicy},
		{"mrsigner, other product", func(p *Policy) { p.SGX = []SGXMeasurement{{MrSigner: mrs, IsvProdID: 1}} }, ErrPolicy},
		{"only TDX listed", func(p *Policy) { p.TDX = []TDXMeasurement{{MrTd: make([]byte, 48)}} }, ErrPolicy},
		{"eval number 16", func(p *Policy) { p.MinTCBEvalDataNumber = 16 }, nil},
		{"eval number 17", func(p *Policy) { p.MinTCBEvalDataNumber = 17 }, ErrPolicy},
		{"collateral age 5 days", func(p *Policy) { p.MaxCollateralAgeSeconds = 5 * 86400 }, nil},
		{"collateral age 4 days", func(p *Policy) { p.MaxCollateralAgeSeconds = 4 * 86400 }, ErrPolicy},
		{"revocation required", func(p *Policy) { p.RequireRevocationCheck = true }, nil},
		{"only UpToDate", func(p *Policy) { p.AcceptedTCBStatuses = []string{StatusUpToDate} }, ErrTCBStatus},
	} {
		p := acceptConfigAndSW
		p.AcceptedTCBStatuses = append([]string(nil), p.AcceptedTCBStatuses...)
		tc.mod(&p)
		_, err := Verify(q, c, phalaAt, WithPolicy(p))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestPhalaQuoteTamper flips bytes in every region of the quote and of
// both signed JSON bodies: verification must fail every time.
func TestPhalaQuoteTamper(t *testing.T) {
	q, c := phalaCollateral(t)
	pq, err := ParseQuote(q)
	if err != nil {
		t.Fatal(err)
	}
	auth := 1014 // 48 + 384 + 4 + 64 + 64 + 384 + 64 + 2
	certData := auth + len(pq.QEAuthData) + 6
	regions := []struct {
		name     string
		from, to int
		stride   int
	}{
		{"header", 0, 48, 1},
		{"report body", 48, 432, 1},
		{"signature data length", 432, 436, 1},
		{"quote signature", 436, 500, 1},
		{"attestation key", 500, 564, 1},
		{"QE report", 564, 948, 1},
		{"QE report signature", 948, 1012, 1},
		{"QE auth data", 1012, certData - 6, 1},
		{"cert data header", certData - 6, certData, 1},
		{"cert data", certData, len(q), 5},
	}
	if string(q[certData:certData+10]) != "-----BEGIN" {
		t.Fatalf("layout: cert data at %d is %q", certData, q[certData:certData+10])
	}
	flip := func(b []byte, i int) []byte {
		out := append([]byte(nil), b...)
		out[i] ^= 0xff
		return out
	}
	n := 0
	for _, r := range regions {
		for i := r.from; i < r.to; i += r.stride {
			if v, err := Verify(flip(q, i), c, phalaAt, WithPolicy(acceptConfigAndSW)); err == nil || v.TEE != "" {
				t.Fatalf("%s: flipping byte %d still verifies", r.name, i)
			}
			n++
		}
	}
	for _, body := range []struct {
		name string
		b    *[]byte
	}{{"tcb_info.json", &c.TCBInfo}, {"qe_identity.json", &c.QEIdentity}} {
		orig := *body.b
		for i := 0; i < len(orig); i += 4 {
			*body.b = flip(orig, i)
			if _, err := Verify(q, c, phalaAt, WithPolicy(acceptConfigAndSW)); err == nil {
				t.Fatalf("%s: flipping byte %d still verifies", body.name, i)
			}
			n++
		}
		*body.b = orig
	}
	// Also a single-character edit of the signed JSON (stays valid JSON).
	c.TCBInfo = []byte(strings.Replace(string(c.TCBInfo), `"tcbEvaluationDataNumber":16`, `"tcbEvaluationDataNumber":17`, 1))
	if _, err := Verify(q, c, phalaAt, WithPolicy(acceptConfigAndSW)); !errors.Is(err, ErrSignature) {
		t.Fatalf("edited TCB info: %v", err)
	}
	t.Logf("%d tampered variants refused", n)
}

// TestOasisVectors: what each oasis-core vector verifies to, and when.
func TestOasisVectors(t *testing.T) {
	const o = "oasis-core-vectors"
	chain := readTestdata(t, o, "tcb_info_v3_fmspc_00606A000000_certs.pem")
	coll := func(ti, qe string) Collateral {
		return Collateral{TCBInfo: readTestdata(t, o, ti), TCBInfoIssuerChain: chain, QEIdentity: readTestdata(t, o, qe)}
	}
	sgxQ := readTestdata(t, o, "quote_v3_ecdsa_p256_pck_chain.bin")
	sgxC := coll("tcb_info_v3_fmspc_00606A000000.json", "qe_identity_v2.json")
	tdxQ := readTestdata(t, o, "quote_v4_tdx_ecdsa_p256.bin")
	tdxC := coll("tcb_info_v3_tdx_fmspc_C0806F000000.json", "qe_identity_v2_tdx2.json")
	oodQ := readTestdata(t, o, "quote_v4_tdx_ecdsa_p256_out_of_date.bin")
	oodC := coll("tcb_info_v3_tdx_fmspc_50806F000000.json", "qe_identity_v2_tdx.json")

	// SGX v3: valid from the TCB info issue (2022-12-19T09:40:10Z) to the QE
	// identity's next update (2023-01-15T12:45:36Z); SWHardeningNeeded.
	v, err := Verify(sgxQ, sgxC, time.Unix(1671497404, 0))
	if err != nil {
		t.Fatal(err)
	}
	if v.TEE != KindSGX || v.TCBStatus != StatusSWHardeningNeeded || v.FMSPC != "00606A000000" || v.TCBEvalDataNumber != 13 ||
		hex.EncodeToString(v.MrEnclave[:]) != "68823bc62f409ee33a32ea270cfe45d4b19a6fb3c8570d7bc186cbe062398e8f" ||
		hex.EncodeToString(v.MrSigner[:]) != "9affcfae47b848ec2caf1c49b4b283531e1cc425f93582b36806e52a43d78d1a" ||
		strings.Join(v.AdvisoryIDs, ",") != "INTEL-SA-00615,INTEL-SA-00657" || v.Debug || v.RevocationChecked {
		t.Fatalf("sgx v3: %+v", v)
	}
	for at, ok := range map[string]bool{
		"2022-12-19T09:40:09Z": false, "2022-12-19T09:40:10Z": true,
		"2023-01-15T12:45:36Z": true, "2023-01-15T12:45:37Z": false,
	} {
		if _, err := Verify(sgxQ, sgxC, ts(t, at)); ok && err != nil || !ok && !errors.Is(err, ErrExpired) {
			t.Errorf("sgx v3 at %s: %v", at, err)
		}
	}

	// TDX v4 (module TDX_01): from the TCB info issue (2024-09-02T07:25:12Z)
	// to the QE identity's next update (2024-10-02T06:47:57Z); UpToDate.
	v, err = Verify(tdxQ, tdxC, time.Unix(1725263032, 0))
	if err != nil {
		t.Fatal(err)
	}
	if v.TEE != KindTDX || v.TCBStatus != StatusUpToDate || v.FMSPC != "C0806F000000" || v.TCBEvalDataNumber != 17 || v.Debug ||
		hex.EncodeToString(v.MrTd[:]) != "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7" ||
		hex.EncodeToString(v.Rtmrs[0][:]) != "1a85265426a60c11b093382a7a2a0a5a18e242c0167891fd12bfa7badfa4c700bdc16fc0637b52f94dd76b063adb1072" ||
		hex.EncodeToString(v.Rtmrs[1][:]) != "b15eda6a40006ea4057e27c64bdcb58d7fed7fdb33a66df3db4a23ce358bb1b84aaad93bae6ee2cfd9ca4777f74e90b9" ||
		hex.EncodeToString(v.Rtmrs[2][:]) != "a61c9c6cb0ba45b154032befbb7778275f8bd9c35e8689fd88c711d44d2d379cb2aa83415cb9c2ee169fd456ddeed0b2" ||
		v.Rtmrs[3] != [48]byte{} ||
		hex.EncodeToString(v.ReportData[:]) != "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" {
		t.Fatalf("tdx v4: %+v", v)
	}
	for at, ok := range map[string]bool{
		"2024-09-02T07:25:11Z": false, "2024-09-02T07:25:12Z": true,
		"2024-10-02T06:47:57Z": true, "2024-10-02T06:47:58Z": false,
	} {
		if _, err := Verify(tdxQ, tdxC, ts(t, at)); ok && err != nil || !ok && !errors.Is(err, ErrExpired) {
			t.Errorf("tdx v4 at %s: %v", at, err)
		}
	}
	if _, err := Verify(tdxQ, tdxC, time.Unix(1725263032, 0), WithPolicy(Policy{TDX: []TDXMeasurement{{MrTd: v.MrTd[:], Rtmr0: v.Rtmrs[0][:]}}})); err != nil {
		t.Fatalf("tdx v4 MRTD policy: %v", err)
	}

	// The out-of-date TDX platform (FMSPC 50806F000000, TEE TCB SVN 03 00
	// 04 and CPU SVN 03 03 ...) is below every TCB level in its TCB info:
	// genuine, but refused on its TCB whatever the accepted statuses.
	_, err = Verify(oodQ, oodC, time.Unix(1687091776, 0), WithPolicy(allStatuses))
	if !errors.Is(err, ErrTCBStatus) || !strings.Contains(err.Error(), "below every TCB level") {
		t.Fatalf("out-of-date TDX: %v", err)
	}

	// Quotes with collateral that is not theirs fail on that.
	for _, tc := range []struct {
		name string
		q    []byte
		c    Collateral
		at   time.Time
		want string
	}{
		{"out-of-date TDX quote with the C0806F TCB info", oodQ, tdxC, time.Unix(1725263032, 0), "FMSPC"},
		{"SGX quote with TDX collateral", sgxQ, oodC, time.Unix(1687091776, 0), `want "SGX"`},
		{"TDX quote with SGX collateral", oodQ, sgxC, time.Unix(1671497404, 0), `want "TDX"`},
	} {
		if _, err := Verify(tc.q, tc.c, tc.at, WithPolicy(allStatuses)); !errors.Is(err, ErrCollateral) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// The oasis SGX quote (PCK Platform CA) against the Phala collateral:
	// the PCK CRL is the Processor CA's, and without CRLs the FMSPC differs.
	_, pc := phalaCollateral(t)
	if _, err := Verify(sgxQ, pc, phalaAt, WithPolicy(allStatuses)); !errors.Is(err, ErrCollateral) || !strings.Contains(err.Error(), "PCK CRL issuer chain") {
		t.Errorf("oasis SGX quote, Phala CRLs: %v", err)
	}
	pc.PCKCRLIssuerChain = nil
	if _, err := Verify(sgxQ, pc, phalaAt, WithPolicy(allStatuses)); !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "PCK CRL is issued by") {
		t.Errorf("oasis SGX quote, Phala PCK CRL: %v", err)
	}
	pc.PCKCRL = nil
	if _, err := Verify(sgxQ, pc, phalaAt, WithPolicy(allStatuses)); !errors.Is(err, ErrCollateral) || !strings.Contains(err.Error(), "FMSPC") {
		t.Errorf("oasis SGX quote, Phala TCB info: %v", err)
	}
}
