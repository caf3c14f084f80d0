package attest

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestPolicyValidate(t *testing.T) {
	b32, b48 := make([]byte, 32), make([]byte, 48)
	cases := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"zero", Policy{}, true},
		{"statuses", Policy{AcceptedTCBStatuses: []string{StatusOutOfDate}}, true},
		{"unknown status", Policy{AcceptedTCBStatuses: []string{"Fine"}}, false},
		{"revoked", Policy{AcceptedTCBStatuses: []string{StatusRevoked}}, false},
		{"sgx empty entry", Policy{SGX: []SGXMeasurement{{}}}, false},
		{"sgx short mrenclave", Policy{SGX: []SGXMeasurement{{MrEnclave: b48[:31]}}}, false},
		{"sgx svn without signer", Policy{SGX: []SGXMeasurement{{MrEnclave: b32, MinIsvSvn: 1}}}, false},
		{"sgx signer", Policy{SGX: []SGXMeasurement{{MrSigner: b32, IsvProdID: 1, MinIsvSvn: 2}}}, true},
		{"tdx no mrtd", Policy{TDX: []TDXMeasurement{{Rtmr0: b48}}}, false},
		{"tdx short rtmr", Policy{TDX: []TDXMeasurement{{MrTd: b48, Rtmr2: b32}}}, false},
		{"tdx", Policy{TDX: []TDXMeasurement{{MrTd: b48, Rtmr3: b48}}}, true},
		{"sim short", Policy{Sim: []Hex{b48[:3]}}, false},
	}
	for _, tc := range cases {
		err := tc.p.Validate()
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrPolicy) {
			t.Errorf("%s: %v", tc.name, err)
		}
		// Check validates too.
		if err := tc.p.Check(Verified{TEE: KindSGX, TCBStatus: StatusUpToDate}, time.Unix(1, 0)); !tc.ok && !errors.Is(err, ErrPolicy) {
			t.Errorf("%s: Check: %v", tc.name, err)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	at := time.Date(2030, 1, 10, 0, 0, 0, 0, time.UTC)
	sgx := Verified{TEE: KindSGX, MrEnclave: [32]byte{1}, MrSigner: [32]byte{2}, IsvProdID: 3, IsvSvn: 4,
		TCBStatus: StatusUpToDate, TCBEvalDataNumber: 17, CollateralIssued: at.AddDate(0, 0, -2), RevocationChecked: true}
	cases := []struct {
		name string
		p    Policy
		v    func(v *Verified)
		want error
	}{
		{"zero policy", Policy{}, nil, nil},
		{"SWHardeningNeeded by default", Policy{}, func(v *Verified) { v.TCBStatus = StatusSWHardeningNeeded }, nil},
		{"ConfigurationNeeded refused by default", Policy{}, func(v *Verified) { v.TCBStatus = StatusConfigurationNeeded }, ErrTCBStatus},
		{"unknown kind", Policy{}, func(v *Verified) { v.TEE = "sev" }, ErrPolicy},
		{"sim refused", Policy{}, func(v *Verified) { v.TEE = KindSim }, ErrSimNotAllowed},
		{"debug refused", Policy{}, func(v *Verified) { v.Debug = true }, ErrDebug},
		{"signer, svn at minimum", Policy{SGX: []SGXMeasurement{{MrSigner: sgx.MrSigner[:], IsvProdID: 3, MinIsvSvn: 4}}}, nil, nil},
		{"signer, svn below", Policy{SGX: []SGXMeasurement{{MrSigner: sgx.MrSigner[:], IsvProdID: 3, MinIsvSvn: 5}}}, nil, ErrPolicy},
		{"enclave and signer both", Policy{SGX: []SGXMeasurement{{MrEnclave: sgx.MrEnclave[:], MrSigner: sgx.MrEnclave[:], IsvProdID: 3}}}, nil, ErrPolicy},
		{"second entry matches", Policy{SGX: []SGXMeasurement{{MrEnclave: make([]byte, 32)}, {MrEnclave: sgx.MrEnclave[:]}}}, nil, nil},
		{"TDX list does not admit SGX", Policy{TDX: []TDXMeasurement{{MrTd: make([]byte, 48)}}}, nil, ErrPolicy},
		{"eval number", Policy{MinTCBEvalDataNumber: 18}, nil, ErrPolicy},
		{"collateral too old", Policy{MaxCollateralAgeSeconds: 86400}, nil, ErrPolicy},
		{"collateral fresh enough", Policy{MaxCollateralAgeSeconds: 2 * 86400}, nil, nil},
		{"collateral from the future", Policy{MaxCollateralAgeSeconds: 86400}, func(v *Verified) { v.CollateralIssued = at.Add(time.Hour) }, ErrPolicy},
		{"revocation", Policy{RequireRevocationCheck: true}, func(v *Verified) { v.RevocationChecked = false }, ErrPolicy},
	}
	for _, tc := range cases {
		v := sgx
		if tc.v != nil {
			tc.v(&v)
		}
		err := tc.p.Check(v, at)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestPolicyEncoding(t *testing.T) {
	p := Policy{
		SGX:                     []SGXMeasurement{{MrEnclave: make([]byte, 32)}, {MrSigner: []byte{31: 0xab}, IsvProdID: 2, MinIsvSvn: 5}},
		TDX:                     []TDXMeasurement{{MrTd: []byte{47: 1}, Rtmr1: []byte{0: 2, 47: 3}}},
		AcceptedTCBStatuses:     []string{StatusUpToDate},
		MinTCBEvalDataNumber:    17,
		MaxCollateralAgeSeconds: 86400 * 30,
		AllowSim:                true,
	}
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"mr_signer":"00000000000000000000000000000000000000000000000000000000000000ab"`) {
		t.Fatalf("hex in JSON: %s", j)
	}
	var pj Policy
	if err := json.Unmarshal(j, &pj); err != nil || !reflect.DeepEqual(p, pj) {
		t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, p, pj)
	}
	c, err := cbor.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(c), "00ab") {
		t.Fatal("Hex should be a CBOR byte string, not hex text")
	}
	var pc Policy
	if err := cbor.Unmarshal(c, &pc); err != nil || !reflect.DeepEqual(p, pc) {
		t.Fatalf("CBOR round trip: %v", err)
	}
	// Hand-written policy files may use 0x prefixes and upper case.
	var ph Policy
	if err := json.Unmarshal([]byte(`{"sgx":[{"mr_enclave":"0x33D8736DB756ED4997E04BA358D27833188F1932FF7B1D156904D3F560452FBB"}]}`), &ph); err != nil || len(ph.SGX[0].MrEnclave) != 32 || ph.Validate() != nil {
		t.Fatalf("%v %+v", err, ph)
	}
	if err := json.Unmarshal([]byte(`{"sim":["zz"]}`), &ph); err == nil {
		t.Fatal("bad hex accepted")
	}
}
