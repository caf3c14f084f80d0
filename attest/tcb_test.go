package attest

import (
	"errors"
	"slices"
	"testing"
)

func statusLevels() []level {
	statuses := []string{StatusUpToDate, StatusSWHardeningNeeded, StatusConfigurationNeeded,
		StatusConfigurationAndSWHardeningNeeded, StatusOutOfDate, StatusOutOfDateConfigurationNeeded, StatusRevoked}
	var ls []level
	for i, s := range statuses {
		ls = append(ls, level{sgx: [16]byte{9, 9, 2, 2, 3, 1, byte(12 - i)}, pceSvn: 13, tdx: [16]byte{4, 1, 7}, status: s, adv: []string{"INTEL-SA-" + s}})
	}
	return ls
}

// TestEachTCBStatus: the platform lands on each level in turn; the default
// policy accepts UpToDate and SWHardeningNeeded only, a permissive one all
// but Revoked, which nothing accepts.
func TestEachTCBStatus(t *testing.T) {
	for _, tdx := range []bool{false, true} {
		for i, l := range statusLevels() {
			e := newEnv(t, tdx)
			e.tcbLevels = statusLevels()
			e.cpuSvn[6] = byte(12 - i)
			name := string(map[bool]Kind{false: KindSGX, true: KindTDX}[tdx]) + "/" + l.status
			_, err := e.verify()
			defaultOK := l.status == StatusUpToDate || l.status == StatusSWHardeningNeeded
			var se *TCBStatusError
			switch {
			case defaultOK && err != nil:
				t.Errorf("%s: default policy: %v", name, err)
			case !defaultOK && (!errors.As(err, &se) || se.Status != l.status || !errors.Is(err, ErrTCBStatus)):
				t.Errorf("%s: default policy: got %v, want a TCBStatusError naming the status", name, err)
			}
			v, err := e.verify(WithPolicy(allStatuses))
			if l.status == StatusRevoked {
				if !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrTCBStatus) {
					t.Errorf("%s: got %v, want refusal", name, err)
				}
				continue
			}
			if err != nil || v.TCBStatus != l.status || !slices.Equal(v.AdvisoryIDs, l.adv) {
				t.Errorf("%s: got %+v, %v", name, v.TCBStatus, err)
			}
		}
	}
}

// TestQEStatusConverges: an out-of-date or revoked quoting enclave drags
// the platform status down.
func TestQEStatusConverges(t *testing.T) {
	cases := []struct {
		platform int // index into statusLevels
		qeSvn    uint16
		want     string
		adv      []string
	}{
		{0, 8, StatusUpToDate, []string{"INTEL-SA-UpToDate"}},
		{0, 5, StatusOutOfDate, []string{"INTEL-SA-UpToDate", "INTEL-SA-00615"}},
		{1, 4, StatusOutOfDate, []string{"INTEL-SA-SWHardeningNeeded", "INTEL-SA-00615"}},
		{2, 4, StatusOutOfDateConfigurationNeeded, []string{"INTEL-SA-ConfigurationNeeded", "INTEL-SA-00615"}},
		{3, 4, StatusOutOfDateConfigurationNeeded, nil},
		{4, 4, StatusOutOfDate, nil},
		{5, 4, StatusOutOfDateConfigurationNeeded, nil},
		{0, 2, StatusRevoked, nil},
	}
	for _, tc := range cases {
		e := newEnv(t, false)
		e.tcbLevels = statusLevels()
		e.cpuSvn[6] = byte(12 - tc.platform)
		e.qe.IsvSvn = tc.qeSvn
		q, c := e.build()
		v, err := verifyDCAP(q, &c, e.at, e.root)
		if err != nil || v.TCBStatus != tc.want || tc.adv != nil && !slices.Equal(v.AdvisoryIDs, tc.adv) {
			t.Errorf("platform %d, QE SVN %d: got %q %v, %v; want %q %v", tc.platform, tc.qeSvn, v.TCBStatus, v.AdvisoryIDs, err, tc.want, tc.adv)
		}
	}
}

func TestSyntheticTDX(t *testing.T) {
	e := newEnv(t, true)
	v, err := e.verify()
	if err != nil {
		t.Fatal(err)
	}
	if v.TEE != KindTDX || v.MrTd != e.td.MrTd || v.Rtmrs != e.td.Rtmrs || v.ReportData != e.td.ReportData ||
		v.MrSeam != e.td.MrSeam || v.TDAttributes != e.td.TDAttributes || v.Debug || v.TCBStatus != StatusUpToDate ||
		v.MrEnclave != ([32]byte{}) {
		t.Fatalf("unexpected %+v", v)
	}

	// TDX TCB matching.
	cases := []struct {
		name    string
		teeSvn  [16]byte
		levels  []level
		want    string
		wantErr error
	}{
		// Module major version 1: the TDX_01 identity judges the module SVN
		// (byte 0), the TCB levels judge bytes 2 and up.
		{name: "module 1 up to date", teeSvn: [16]byte{4, 1, 7}, want: StatusUpToDate},
		{name: "module 1 SVN out of date", teeSvn: [16]byte{3, 1, 7}, want: StatusOutOfDate},
		{name: "module 1 late microcode behind", teeSvn: [16]byte{4, 1, 6}, want: StatusOutOfDate},
		{name: "module 1 below everything", teeSvn: [16]byte{4, 1, 4}, wantErr: ErrTCBStatus},
		// Module 3: bytes 0 and 1 are not compared with the levels ({4, 1, ...}).
		{name: "module 3 ignores level bytes 0-1", teeSvn: [16]byte{2, 3, 7}, want: StatusUpToDate},
		// Major version 0: all 16 bytes against the levels, no module identity.
		{name: "major 0 compares byte 1", teeSvn: [16]byte{4, 0, 7}, want: StatusOutOfDate},
		{name: "major 0 up to date", teeSvn: [16]byte{4, 0, 7}, levels: []level{{sgx: [16]byte{9, 9, 2, 2, 3, 1, 12}, pceSvn: 13, tdx: [16]byte{4, 0, 7}, status: StatusUpToDate}}, want: StatusUpToDate},
		{name: "major 0 module SVN compared", teeSvn: [16]byte{3, 0, 7}, levels: []level{{sgx: [16]byte{9, 9, 2, 2, 3, 1, 12}, pceSvn: 13, tdx: [16]byte{4, 0, 7}, status: StatusUpToDate}}, wantErr: ErrTCBStatus},
	}
	for _, tc := range cases {
		e := newEnv(t, true)
		e.td.TEETCBSVN = tc.teeSvn
		if tc.levels != nil {
			e.tcbLevels = tc.levels
		}
		v, err := e.verify(WithPolicy(allStatuses))
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || v.TCBStatus != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, v.TCBStatus, err, tc.want)
		}
	}

	// Policy on MRTD and RTMRs.
	e = newEnv(t, true)
	ok := Policy{TDX: []TDXMeasurement{{MrTd: e.td.MrTd[:], Rtmr1: e.td.Rtmrs[1][:], Rtmr3: e.td.Rtmrs[3][:]}}}
	if _, err := e.verify(WithPolicy(ok)); err != nil {
		t.Fatal(err)
	}
	bad := Policy{TDX: []TDXMeasurement{{MrTd: e.td.MrTd[:], Rtmr2: e.td.Rtmrs[1][:]}}}
	if _, err := e.verify(WithPolicy(bad)); !errors.Is(err, ErrPolicy) {
		t.Fatalf("RTMR mismatch: %v", err)
	}
}

func TestUnsafeAllowDebug(t *testing.T) {
	for _, tdx := range []bool{false, true} {
		e := newEnv(t, tdx)
		e.app.Attributes[0] |= 0x02
		e.td.TDAttributes[0] |= 0x01
		if _, err := e.verify(); !errors.Is(err, ErrDebug) {
			t.Fatalf("tdx=%v: %v", tdx, err)
		}
		for _, opt := range []Option{UnsafeAllowDebug(), WithPolicy(Policy{UnsafeAllowDebug: true})} {
			v, err := e.verify(opt)
			if err != nil || !v.Debug {
				t.Fatalf("tdx=%v: %+v %v", tdx, v, err)
			}
		}
	}
}

// TestOptionalCollateral: without QE identity chain and CRLs the QE
// identity is checked with the TCB info chain and revocation is not.
func TestOptionalCollateral(t *testing.T) {
	e := newEnv(t, false)
	e.crls = false
	e.pckRevoked = nil
	v, err := e.verify()
	if err != nil || v.RevocationChecked {
		t.Fatalf("%+v %v", v.RevocationChecked, err)
	}
	if _, err := e.verify(WithPolicy(Policy{RequireRevocationCheck: true})); !errors.Is(err, ErrPolicy) {
		t.Fatalf("RequireRevocationCheck: %v", err)
	}
	// A separate QE identity chain is verified on its own.
	other := newEnv(t, false)
	e.collTweak = func(c *Collateral) { c.QEIdentityIssuerChain = pemOf(other.signer, other.root) }
	if _, err := e.verify(); !errors.Is(err, ErrCertificate) {
		t.Fatalf("foreign QE identity chain: %v", err)
	}
}
