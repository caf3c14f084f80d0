package attestfs

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
)

func phalaDir(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Skip("module root not found")
		}
		dir = filepath.Dir(dir)
	}
	d := filepath.Join(dir, "..", "shared", "testdata", "attestation", "sgx-dcap-v3-phala")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("attestation testdata absent (%s)", d)
	}
	return d
}

func TestLoadCollateralDir(t *testing.T) {
	dir := phalaDir(t)
	c, err := LoadCollateralDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TCBInfo) == 0 || len(c.TCBInfoIssuerChain) == 0 || len(c.QEIdentity) == 0 || len(c.QEIdentityIssuerChain) == 0 ||
		len(c.PCKCRL) == 0 || len(c.PCKCRLIssuerChain) == 0 || len(c.RootCACRL) == 0 {
		t.Fatal("missing parts")
	}
	q, err := os.ReadFile(filepath.Join(dir, "quote.bin"))
	if err != nil {
		t.Fatal(err)
	}
	p := attest.Policy{AcceptedTCBStatuses: []string{attest.StatusUpToDate, attest.StatusSWHardeningNeeded, attest.StatusConfigurationAndSWHardeningNeeded}}
	v, err := attest.Verify(q, c, time.Unix(1700956800, 0), attest.WithPolicy(p))
	if err != nil || !v.RevocationChecked {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestLoadCollateralDirOptional(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadCollateralDir(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty dir: %v", err)
	}
	write(TCBInfoFile, []byte("{}"))
	write(TCBInfoIssuerChainFile, []byte("chain"))
	write(QEIdentityFile, []byte("{ }"))
	c, err := LoadCollateralDir(dir)
	if err != nil || c.QEIdentityIssuerChain != nil || c.PCKCRL != nil || c.RootCACRL != nil || string(c.QEIdentity) != "{ }" {
		t.Fatalf("%+v %v", c, err)
	}
	// PEM CRLs are unwrapped.
	write(RootCACRLFile, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0x00}}))
	c, err = LoadCollateralDir(dir)
	if err != nil || !bytes.Equal(c.RootCACRL, []byte{0x30, 0x00}) {
		t.Fatalf("%x %v", c.RootCACRL, err)
	}
}
