// Package attestfs loads attestation collateral from files. It is the only
// part of attest that does I/O; the chain never calls it.
package attestfs

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/attest"
)

// Collateral file names in a collateral directory.
const (
	TCBInfoFile               = "tcb_info.json"
	TCBInfoIssuerChainFile    = "tcb_info_issuer_chain.pem"
	QEIdentityFile            = "qe_identity.json"
	QEIdentityIssuerChainFile = "qe_identity_issuer_chain.pem"
	PCKCRLFile                = "pck_crl.der"
	PCKCRLIssuerChainFile     = "pck_crl_issuer_chain.pem"
	RootCACRLFile             = "root_ca_crl.der"
)

// LoadCollateralDir reads collateral from dir: tcb_info.json,
// tcb_info_issuer_chain.pem and qe_identity.json are required;
// qe_identity_issuer_chain.pem, pck_crl.der, pck_crl_issuer_chain.pem and
// root_ca_crl.der are optional (see attest.Collateral for what their absence
// means). CRLs may also be PEM-encoded.
func LoadCollateralDir(dir string) (attest.Collateral, error) {
	var c attest.Collateral
	files := []struct {
		name     string
		dst      *[]byte
		required bool
		crl      bool
	}{
		{TCBInfoFile, &c.TCBInfo, true, false},
		{TCBInfoIssuerChainFile, &c.TCBInfoIssuerChain, true, false},
		{QEIdentityFile, &c.QEIdentity, true, false},
		{QEIdentityIssuerChainFile, &c.QEIdentityIssuerChain, false, false},
		{PCKCRLFile, &c.PCKCRL, false, true},
		{PCKCRLIssuerChainFile, &c.PCKCRLIssuerChain, false, false},
		{RootCACRLFile, &c.RootCACRL, false, true},
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if errors.Is(err, fs.ErrNotExist) && !f.required {
			continue
		}
		if err != nil {
			return attest.Collateral{}, fmt.Errorf("collateral: %w", err)
		}
		if f.crl && bytes.HasPrefix(bytes.TrimSpace(b), []byte("-----BEGIN")) {
			blk, _ := pem.Decode(b)
			if blk == nil {
				return attest.Collateral{}, fmt.Errorf("collateral: %s: bad PEM", f.name)
			}
			b = blk.Bytes
		}
		*f.dst = b
	}
	return c, nil
}
