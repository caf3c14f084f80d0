package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/attest"
)

func phalaAttestDir(t *testing.T) string {
	t.Helper()
	// <module root>/../shared/testdata/attestation; this package is <root>/cmd/phala.
	d, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "testdata", "attestation", "sgx-dcap-v3-phala"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Skipf("attestation testdata absent (%s)", d)
	}
	return d
}

func runAttest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newAttestCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestAttestVerifyCLI(t *testing.T) {
	dir := phalaAttestDir(t)
	quote := filepath.Join(dir, "quote.bin")
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"accepted_tcb_statuses":["UpToDate","SWHardeningNeeded","ConfigurationAndSWHardeningNeeded"],
		"sgx":[{"mr_enclave":"33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	// Accepted with the policy; JSON even though --output is text.
	outputFormat = "text"
	out, err := runAttest(t, "verify", "--quote", quote, "--collateral", dir, "--at", "1700956800", "--policy", policy)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	want := map[string]any{
		"tee":                  "sgx",
		"mr_enclave":           "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
		"mr_signer":            "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6",
		"report_data":          "48656c6c6f2c20776f726c6421" + strings.Repeat("00", 51),
		"tcb_status":           "ConfigurationAndSWHardeningNeeded",
		"debug":                false,
		"fmspc":                "00A067110000",
		"tcb_eval_data_number": float64(16),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if adv, _ := got["advisory_ids"].([]any); len(adv) != 2 || adv[0] != "INTEL-SA-00289" || adv[1] != "INTEL-SA-00615" {
		t.Errorf("advisory_ids = %v", got["advisory_ids"])
	}

	// Without the policy: refused, the error naming the status, nothing on stdout.
	out, err = runAttest(t, "verify", "--quote", quote, "--collateral", dir, "--at", "1700956800")
	if err == nil || !strings.Contains(err.Error(), "ConfigurationAndSWHardeningNeeded") || out != "" {
		t.Fatalf("default policy: %v, stdout %q", err, out)
	}
	// Outside the collateral's validity.
	if _, err := runAttest(t, "verify", "--quote", quote, "--collateral", dir, "--at", "1800000000", "--policy", policy); err == nil {
		t.Fatal("verified outside the validity window")
	}
	// A policy file with a typo is refused rather than ignored.
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"accepted_statuses":["OutOfDate"]}`), 0o600)
	if _, err := runAttest(t, "verify", "--quote", quote, "--collateral", dir, "--at", "1700956800", "--policy", bad); err == nil {
		t.Fatal("unknown policy field accepted")
	}
}

func TestAttestVerifyCLISim(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "sim.quote")
	_ = os.WriteFile(q, attest.SignSimQuote([32]byte{7}, [64]byte{8}), 0o600)
	if _, err := runAttest(t, "verify", "--quote", q); err == nil || !strings.Contains(err.Error(), "sim quotes are not accepted") {
		t.Fatalf("sim without policy: %v", err)
	}
	p := filepath.Join(dir, "p.json")
	_ = os.WriteFile(p, []byte(`{"allow_sim":true}`), 0o600)
	out, err := runAttest(t, "verify", "--quote", q, "--policy", p)
	if err != nil || !strings.Contains(out, `"tee": "sim"`) || !strings.Contains(out, `"mr_enclave": "07`) {
		t.Fatalf("%v\n%s", err, out)
	}
}
