package attest

import (
	"os"
	"path/filepath"
	"testing"
)

// testdataDir returns <module root>/../shared/testdata/attestation/<sub>,
// skipping the test when it is absent.
func testdataDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "testdata", "attestation", sub)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("attestation testdata absent (%s): %v", d, err)
	}
	return d
}

func readTestdata(t testing.TB, sub, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(t, sub), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// phalaCollateral loads sgx-dcap-v3-phala's quote and collateral (without
// importing attestfs, which imports this package).
func phalaCollateral(t testing.TB) ([]byte, Collateral) {
	const sub = "sgx-dcap-v3-phala"
	return readTestdata(t, sub, "quote.bin"), Collateral{
		TCBInfo:               readTestdata(t, sub, "tcb_info.json"),
		TCBInfoIssuerChain:    readTestdata(t, sub, "tcb_info_issuer_chain.pem"),
		QEIdentity:            readTestdata(t, sub, "qe_identity.json"),
		QEIdentityIssuerChain: readTestdata(t, sub, "qe_identity_issuer_chain.pem"),
		PCKCRL:                readTestdata(t, sub, "pck_crl.der"),
		PCKCRLIssuerChain:     readTestdata(t, sub, "pck_crl_issuer_chain.pem"),
		RootCACRL:             readTestdata(t, sub, "root_ca_crl.der"),
	}
}
