package attest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestSyntheticSGX(t *testing.T) {
	for _, version := range []uint16{3, 4} {
		e := newEnv(t, false)
		e.version = version
		v, err := e.verify()
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		if v.TEE != KindSGX || v.MrEnclave != e.app.MrEnclave || v.MrSigner != e.app.MrSigner ||
			v.IsvProdID != 7 || v.IsvSvn != 3 || v.ReportData != e.app.ReportData || v.Debug ||
			v.TCBStatus != StatusUpToDate || v.FMSPC != "00906EA10000" || v.TCBEvalDataNumber != 17 ||
			!v.RevocationChecked || !v.CollateralIssued.Equal(e.at.AddDate(0, 0, -3)) {
			t.Fatalf("v%d: unexpected %+v", version, v)
		}
	}
}

// TestSyntheticFailures: each case breaks one thing and must fail with its
// kind (and, where given, a message fragment).
func TestSyntheticFailures(t *testing.T) {
	other := newEnv(t, false) // a second, unrelated PKI
	cases := []struct {
		name string
		tdx  bool
		mod  func(e *env)
		opts []Option
		want error
		msg  string
	}{
		{name: "revoked PCK", mod: func(e *env) { e.pckRevoked = []*big.Int{big.NewInt(1), big.NewInt(e.pckSerial)} }, want: ErrRevoked, msg: "PCK certificate"},
		{name: "revoked PCK CA", mod: func(e *env) { e.rootRevoked = []*big.Int{e.ca.SerialNumber} }, want: ErrRevoked, msg: "PCK CA"},
		{name: "revoked TCB signer", mod: func(e *env) { e.rootRevoked = []*big.Int{e.signer.SerialNumber} }, want: ErrRevoked, msg: "TCB signing"},
		{name: "expired PCK", mod: func(e *env) { e.pckNotAfter = e.at.Add(-time.Hour) }, want: ErrExpired},
		{name: "PCK not yet valid", mod: func(e *env) { e.pckNotBefore = e.at.Add(time.Hour) }, want: ErrExpired},
		{name: "CRL expired", mod: func(e *env) { e.crlNext = e.at.Add(-time.Minute) }, want: ErrExpired, msg: "CRL"},
		{name: "CRL not yet issued", mod: func(e *env) { e.crlThis = e.at.Add(time.Minute) }, want: ErrExpired, msg: "CRL"},
		{name: "TCB info expired", mod: func(e *env) {
			e.tcbInfoTweak = func(m map[string]any) { m["nextUpdate"] = e.at.Add(-time.Second).Format(time.RFC3339) }
		}, want: ErrExpired, msg: "TCB info"},
		{name: "QE identity not yet valid", mod: func(e *env) {
			e.qeTweak = func(m map[string]any) { m["issueDate"] = e.at.Add(time.Second).Format(time.RFC3339) }
		}, want: ErrExpired, msg: "QE identity"},
		{name: "wrong issuer: PCK chain under another root", mod: func(e *env) {
			e.pckChainTweak = func(*x509.Certificate) []*x509.Certificate {
				return []*x509.Certificate{other.pck(), other.ca, other.root}
			}
		}, want: ErrCertificate, msg: "not at the trusted root"},
		{name: "wrong issuer: PCK signed by a rogue CA of the same name", mod: func(e *env) {
			e.pckChainTweak = func(*x509.Certificate) []*x509.Certificate {
				rogue := issue(t, certSpec{cn: "Test SGX PCK Processor CA", serial: 2, ca: true, notBefore: e.at.AddDate(-1, 0, 0), notAfter: e.at.AddDate(1, 0, 0)}, other.caKey, other.root, other.rootKey)
				return []*x509.Certificate{e.pckFrom(rogue, other.caKey), e.ca, e.root}
			}
		}, want: ErrCertificate},
		{name: "PCK chain without CA", mod: func(e *env) {
			e.pckChainTweak = func(p *x509.Certificate) []*x509.Certificate { return []*x509.Certificate{p, e.root} }
		}, want: ErrCertificate},
		{name: "TCB info signed under another root", mod: func(e *env) {
			e.tcbSignTweak = func(*env) (*ecdsa.PrivateKey, []byte) { return other.signKey, pemOf(other.signer, other.root) }
		}, want: ErrCertificate},
		{name: "TCB info signed with the PCK key", mod: func(e *env) {
			e.tcbSignTweak = func(e *env) (*ecdsa.PrivateKey, []byte) { return e.pckKey, pemOf(e.pck(), e.ca, e.root) }
		}, want: ErrCertificate},
		{name: "TCB info signed by wrong key", mod: func(e *env) {
			e.tcbSignTweak = func(e *env) (*ecdsa.PrivateKey, []byte) { return e.attKey, pemOf(e.signer, e.root) }
		}, want: ErrSignature, msg: "TCB info"},
		{name: "PCK CRL signed by wrong key", mod: func(e *env) {
			e.pckCRLSigner = func(e *env) (*x509.Certificate, *ecdsa.PrivateKey) { return e.ca, other.caKey }
		}, want: ErrSignature, msg: "PCK CRL"},
		{name: "PCK CRL of another CA", mod: func(e *env) {
			e.pckCRLSigner = func(e *env) (*x509.Certificate, *ecdsa.PrivateKey) {
				k := mustKey(t)
				return issue(t, certSpec{cn: "Test SGX PCK Platform CA", serial: 9, ca: true, notBefore: e.at.AddDate(-1, 0, 0), notAfter: e.at.AddDate(1, 0, 0)}, k, e.root, e.rootKey), k
			}
		}, want: ErrCertificate, msg: "PCK CRL is issued by"},
		{name: "PCK CRL issuer chain of another CA", mod: func(e *env) {
			e.collTweak = func(c *Collateral) {
				k := mustKey(t)
				c.PCKCRLIssuerChain = pemOf(issue(t, certSpec{cn: "Test SGX PCK Platform CA", serial: 9, ca: true, notBefore: e.at.AddDate(-1, 0, 0), notAfter: e.at.AddDate(1, 0, 0)}, k, e.root, e.rootKey), e.root)
			}
		}, want: ErrCollateral, msg: "PCK CRL issuer chain"},
		{name: "PCK CRL issuer chain under another root", mod: func(e *env) {
			e.collTweak = func(c *Collateral) { c.PCKCRLIssuerChain = pemOf(other.ca, other.root) }
		}, want: ErrCertificate, msg: "PCK CRL issuer chain"},
		{name: "root CA CRL from another root", mod: func(e *env) {
			e.collTweak = func(c *Collateral) { c.RootCACRL = mkCRL(t, other.root, other.rootKey, e.crlThis, e.crlNext) }
		}, want: ErrSignature, msg: "root CA CRL"},
		{name: "TCB info issuer chain missing", mod: func(e *env) {
			e.collTweak = func(c *Collateral) { c.TCBInfoIssuerChain = nil }
		}, want: ErrCollateral, msg: "TCB info issuer chain"},
		{name: "QE identity missing", mod: func(e *env) {
			e.collTweak = func(c *Collateral) { c.QEIdentity = nil }
		}, want: ErrCollateral, msg: "QE identity"},
		{name: "TCB info with extra key", mod: func(e *env) {
			e.collTweak = func(c *Collateral) { c.TCBInfo = append(c.TCBInfo[:len(c.TCBInfo)-1], `,"x":1}`...) }
		}, want: ErrCollateral},
		{name: "no verification time", mod: func(e *env) { e.at = time.Time{} }, want: ErrExpired},
		{name: "debug enclave", mod: func(e *env) { e.app.Attributes[0] |= 0x02 }, want: ErrDebug},
		{name: "debug TD", tdx: true, mod: func(e *env) { e.td.TDAttributes[0] |= 0x01 }, want: ErrDebug},
		{name: "QE MRSIGNER mismatch", mod: func(e *env) { e.qe.MrSigner[31] ^= 1 }, want: ErrQEIdentity, msg: "MRSIGNER"},
		{name: "QE ISVPRODID mismatch", mod: func(e *env) { e.qe.IsvProdID = 9 }, want: ErrQEIdentity, msg: "ISVPRODID"},
		{name: "QE attributes mismatch", mod: func(e *env) { e.qe.Attributes[0] = 0x01 }, want: ErrQEIdentity, msg: "ATTRIBUTES"},
		{name: "QE debug", mod: func(e *env) { e.qe.Attributes[0] |= 0x02 }, want: ErrQEIdentity},
		{name: "QE MISCSELECT mismatch", mod: func(e *env) { e.qe.MiscSelect = 1 }, want: ErrQEIdentity, msg: "MISCSELECT"},
		{name: "QE ISVSVN below every level", mod: func(e *env) { e.qe.IsvSvn = 1 }, want: ErrQEIdentity, msg: "ISVSVN"},
		{name: "QE revoked level", mod: func(e *env) { e.qe.IsvSvn = 3 }, opts: []Option{WithPolicy(allStatuses)}, want: ErrRevoked},
		{name: "TD QE identity used for SGX", mod: func(e *env) { e.qeTweak = func(m map[string]any) { m["id"] = "TD_QE" } }, want: ErrCollateral},
		{name: "FMSPC mismatch", mod: func(e *env) { e.tcbInfoTweak = func(m map[string]any) { m["fmspc"] = "00906EA10001" } }, want: ErrCollateral, msg: "FMSPC"},
		{name: "PCE ID mismatch", mod: func(e *env) { e.tcbInfoTweak = func(m map[string]any) { m["pceId"] = "0100" } }, want: ErrCollateral, msg: "PCE ID"},
		{name: "TDX TCB info for SGX quote", mod: func(e *env) { e.tcbInfoTweak = func(m map[string]any) { m["id"] = "TDX" } }, want: ErrCollateral},
		{name: "TCB info version 2", mod: func(e *env) { e.tcbInfoTweak = func(m map[string]any) { m["version"] = 2 } }, want: ErrCollateral},
		{name: "platform below every level", mod: func(e *env) { e.cpuSvn = [16]byte{1, 1, 1} }, opts: []Option{WithPolicy(allStatuses)}, want: ErrTCBStatus, msg: "below every TCB level"},
		{name: "PCE SVN below every level", mod: func(e *env) { e.pceSvn = 10 }, opts: []Option{WithPolicy(allStatuses)}, want: ErrTCBStatus},
		{name: "QE report data does not bind key", mod: func(e *env) { e.bindTweak = func(rd *[64]byte) { rd[0] ^= 1 } }, want: ErrSignature, msg: "bind"},
		{name: "QE report data upper half not zero", mod: func(e *env) { e.bindTweak = func(rd *[64]byte) { rd[63] = 1 } }, want: ErrSignature, msg: "bind"},
		{name: "unknown QE vendor", mod: func(e *env) {
			e.quoteTweak = func(q []byte) []byte { q[12] ^= 1; return q }
		}, want: ErrUnsupported},
		{name: "TCB info without levels", mod: func(e *env) {
			e.tcbInfoTweak = func(m map[string]any) { delete(m, "tcbLevels") }
		}, want: ErrCollateral},
		{name: "sim quote not allowed", mod: func(e *env) {
			e.quoteTweak = func([]byte) []byte { return SignSimQuote([32]byte{1}, [64]byte{2}) }
		}, want: ErrSimNotAllowed, msg: "sim quotes are not accepted by this chain"},
		{name: "TDX module MRSIGNERSEAM mismatch", tdx: true, mod: func(e *env) { e.td.MrSignerSeam[0] = 1 }, want: ErrTDXModule},
		{name: "TDX module SEAMATTRIBUTES mismatch", tdx: true, mod: func(e *env) { e.td.SeamAttributes[7] = 0x80 }, want: ErrTDXModule},
		{name: "TDX module identity missing", tdx: true, mod: func(e *env) { e.td.TEETCBSVN[1] = 2 }, want: ErrCollateral, msg: "TDX_02"},
		{name: "TDX module SVN below every level", tdx: true, mod: func(e *env) { e.td.TEETCBSVN[0] = 1 }, opts: []Option{WithPolicy(allStatuses)}, want: ErrTCBStatus},
		{name: "TDX component below every level", tdx: true, mod: func(e *env) { e.td.TEETCBSVN[2] = 4 }, opts: []Option{WithPolicy(allStatuses)}, want: ErrTCBStatus},
		{name: "SGX TCB info for TDX quote", tdx: true, mod: func(e *env) { e.tcbInfoTweak = func(m map[string]any) { m["id"] = "SGX" } }, want: ErrCollateral},
		{name: "SGX QE identity for TDX quote", tdx: true, mod: func(e *env) { e.qeTweak = func(m map[string]any) { m["id"] = "QE" } }, want: ErrCollateral},
		{name: "TDX TCB info without TDX components", tdx: true, mod: func(e *env) {
			e.tcbInfoTweak = func(m map[string]any) {
				for _, l := range m["tcbLevels"].([]map[string]any) {
					delete(l["tcb"].(map[string]any), "tdxtcbcomponents")
				}
			}
		}, want: ErrCollateral},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.tdx)
			tc.mod(e)
			v, err := e.verify(tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v (%+v), want %v", err, v, tc.want)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
			if v.TEE != "" {
				t.Fatalf("non-zero Verified with an error: %+v", v)
			}
			t.Log(err)
		})
	}
}
