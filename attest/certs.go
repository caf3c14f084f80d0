package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/google/go-tdx-guest/pcs"
)

// IntelSGXRootCAPEM is Intel's SGX Root CA certificate, the default trust
// anchor of every DCAP quote and collateral. SHA-256 fingerprint
// 44:A0:19:6B:2B:99:F8:89:B8:E1:49:E9:5B:80:7A:35:0E:74:24:96:43:99:E8:85:A7:CB:B8:CC:FA:B6:74:D3
// (valid 2018-05-21 to 2049-12-31).
const IntelSGXRootCAPEM = `-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
`

var intelRoot = sync.OnceValue(func() *x509.Certificate {
	b, _ := pem.Decode([]byte(IntelSGXRootCAPEM))
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		panic("attest: embedded Intel root: " + err.Error())
	}
	return c
})

// IntelSGXRootCA returns the parsed Intel SGX Root CA certificate. The
// value is shared: do not modify it.
func IntelSGXRootCA() *x509.Certificate { return intelRoot() }

// parsePEMChain parses concatenated PEM certificates strictly: nothing but
// line breaks, spaces and tabs between blocks, and trailing NUL bytes at
// the very end (Intel's QE terminates the chain with one).
func parsePEMChain(data []byte, what string) ([]*x509.Certificate, error) {
	rest := bytes.TrimRight(data, "\x00")
	var certs []*x509.Certificate
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			break
		}
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, fmt.Errorf("%w: %s: unexpected bytes outside PEM blocks", ErrCertificate, what)
		}
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%w: %s: bad PEM block", ErrCertificate, what)
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			return nil, fmt.Errorf("%w: %s: unexpected PEM block %q", ErrCertificate, what, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, what, err)
		}
		certs = append(certs, c)
		if len(certs) > 8 {
			return nil, fmt.Errorf("%w: %s: too many certificates", ErrCertificate, what)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: %s: no certificate", ErrCertificate, what)
	}
	return certs, nil
}

// verifyChain checks that certs (leaf first; the trusted root at the end
// optional) chain to root with exactly depth certificates including the
// root, every one valid at time at. It returns the chain leaf first, root
// last.
func verifyChain(certs []*x509.Certificate, root *x509.Certificate, at time.Time, depth int, what string) ([]*x509.Certificate, error) {
	if n := len(certs); n > 0 && certs[n-1].Equal(root) {
		certs = certs[:n-1]
	}
	if len(certs) != depth-1 {
		if len(certs) > 0 && bytes.Equal(certs[len(certs)-1].RawIssuer, certs[len(certs)-1].RawSubject) {
			return nil, fmt.Errorf("%w: %s ends at %q, not at the trusted root", ErrCertificate, what, certs[len(certs)-1].Subject)
		}
		return nil, fmt.Errorf("%w: %s has %d certificates below the root, want %d", ErrCertificate, what, len(certs), depth-1)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil, fmt.Errorf("%w: %s: %v", ErrExpired, what, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, what, err)
	}
	want := append(append([]*x509.Certificate(nil), certs...), root)
	for _, ch := range chains {
		if len(ch) != len(want) {
			continue
		}
		ok := true
		for i := range ch {
			if !ch[i].Equal(want[i]) {
				ok = false
				break
			}
		}
		if ok {
			return want, nil
		}
	}
	return nil, fmt.Errorf("%w: %s does not chain through its own certificates to the root", ErrCertificate, what)
}

// verifySigningChain verifies a TCB info / QE identity issuer chain: a
// signing certificate issued directly by the root, not a CA, not a PCK
// certificate (a platform holds its PCK key, so it must never be able to
// sign collateral).
func verifySigningChain(pemChain []byte, root *x509.Certificate, at time.Time, what string) ([]*x509.Certificate, error) {
	if len(pemChain) == 0 {
		return nil, fmt.Errorf("%w: %s missing", ErrCollateral, what)
	}
	certs, err := parsePEMChain(pemChain, what)
	if err != nil {
		return nil, err
	}
	chain, err := verifyChain(certs, root, at, 2, what)
	if err != nil {
		return nil, err
	}
	signer := chain[0]
	if signer.IsCA {
		return nil, fmt.Errorf("%w: %s: signing certificate is a CA", ErrCertificate, what)
	}
	for _, e := range signer.Extensions {
		if e.Id.Equal(pcs.OidSgxExtension) {
			return nil, fmt.Errorf("%w: %s: signing certificate is a PCK certificate", ErrCertificate, what)
		}
	}
	if _, err := p256Key(signer); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, what, err)
	}
	return chain, nil
}

func p256Key(c *x509.Certificate) (*ecdsa.PublicKey, error) {
	k, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("certificate %q key is not ECDSA P-256", c.Subject.CommonName)
	}
	return k, nil
}

// verifyRawSig checks an ECDSA P-256 signature given as 64 bytes r||s over
// SHA-256(msg).
func verifyRawSig(k *ecdsa.PublicKey, msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	h := sha256.Sum256(msg)
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(k, h[:], r, s)
}

// crl is a parsed CRL whose signature and validity were checked.
type crl struct {
	rl *x509.RevocationList
}

func checkCRL(der []byte, issuer *x509.Certificate, at time.Time, what string) (*crl, error) {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCertificate, what, err)
	}
	if !bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
		return nil, fmt.Errorf("%w: %s is issued by %q, want %q", ErrCertificate, what, rl.Issuer, issuer.Subject)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSignature, what, err)
	}
	if at.Before(rl.ThisUpdate) || rl.NextUpdate.IsZero() || at.After(rl.NextUpdate) {
		return nil, fmt.Errorf("%w: %s valid %s to %s, verification time %s", ErrExpired, what,
			rl.ThisUpdate.UTC().Format(time.RFC3339), rl.NextUpdate.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	return &crl{rl: rl}, nil
}

// check fails if c is issued by the CRL's issuer and listed in it.
func (l *crl) check(c *x509.Certificate, what string) error {
	if l == nil || !bytes.Equal(c.RawIssuer, l.rl.RawIssuer) {
		return nil
	}
	for _, e := range l.rl.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return fmt.Errorf("%w: %s %q (serial %x) revoked on %s", ErrRevoked, what, c.Subject.CommonName,
				c.SerialNumber, e.RevocationTime.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
