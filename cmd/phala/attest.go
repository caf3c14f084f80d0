package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/attest/attestfs"
)

func newAttestCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "attest", Short: "Verify TEE attestation quotes (SGX DCAP, TDX, sim)"}
	cmd.AddCommand(attestVerifyCmd())
	return cmd
}

// attestVerifyJSON is the output of `phala attest verify`: always JSON,
// whatever --output says (a documented contract for scripts).
type attestVerifyJSON struct {
	TEE               string   `json:"tee"`
	MrEnclave         string   `json:"mr_enclave,omitempty"`
	MrSigner          string   `json:"mr_signer,omitempty"`
	IsvProdID         *uint16  `json:"isv_prod_id,omitempty"`
	IsvSvn            *uint16  `json:"isv_svn,omitempty"`
	MrTd              string   `json:"mr_td,omitempty"`
	Rtmrs             []string `json:"rtmrs,omitempty"`
	ReportData        string   `json:"report_data"`
	Debug             bool     `json:"debug"`
	TCBStatus         string   `json:"tcb_status"`
	AdvisoryIDs       []string `json:"advisory_ids"`
	FMSPC             string   `json:"fmspc,omitempty"`
	TCBEvalDataNumber uint32   `json:"tcb_eval_data_number"`
	CollateralIssued  string   `json:"collateral_issued,omitempty"`
	RevocationChecked bool     `json:"revocation_checked"`
	VerifiedAt        int64    `json:"verified_at"`
}

func attestVerifyCmd() *cobra.Command {
	var quotePath, collDir, policyPath string
	var at int64
	cmd := &cobra.Command{
		Use:   "verify --quote FILE --collateral DIR [--at UNIX_SECONDS] [--policy FILE]",
		Short: "Verify a quote against Intel collateral and a policy; print the result as JSON",
		Long: `Verify a quote (SGX DCAP v3/v4, TDX v4, or a sim quote) against the Intel PCS
collateral in DIR (tcb_info.json, tcb_info_issuer_chain.pem, qe_identity.json,
and optionally qe_identity_issuer_chain.pem, pck_crl.der, pck_crl_issuer_chain.pem,
root_ca_crl.der) at time --at (default: now), then apply the policy (a JSON
attest.Policy; default: any measurement, TCB status UpToDate or
SWHardeningNeeded, no sim quotes, no debug enclaves).

Prints one JSON object on stdout (regardless of --output) and exits 0 when the
quote verifies and passes the policy; otherwise prints the reason and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quote, err := os.ReadFile(quotePath)
			if err != nil {
				return fmt.Errorf("quote: %w", err)
			}
			var coll attest.Collateral
			switch {
			case collDir != "":
				if coll, err = attestfs.LoadCollateralDir(collDir); err != nil {
					return err
				}
			case !attest.IsSimQuote(quote):
				return fmt.Errorf("--collateral DIR is required for SGX and TDX quotes")
			}
			var policy attest.Policy
			if policyPath != "" {
				if policy, err = readPolicy(policyPath); err != nil {
					return err
				}
			}
			when := time.Now()
			if cmd.Flags().Changed("at") {
				when = time.Unix(at, 0)
			}
			v, err := attest.Verify(quote, coll, when, attest.WithPolicy(policy))
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(attestJSON(v, when))
		},
	}
	f := cmd.Flags()
	f.StringVar(&quotePath, "quote", "", "quote file (binary)")
	f.StringVar(&collDir, "collateral", "", "collateral directory (not needed for sim quotes)")
	f.Int64Var(&at, "at", 0, "verification time, unix seconds (default: now)")
	f.StringVar(&policyPath, "policy", "", "policy file (JSON)")
	_ = cmd.MarkFlagRequired("quote")
	return cmd
}

func readPolicy(path string) (attest.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return attest.Policy{}, fmt.Errorf("policy: %w", err)
	}
	var p attest.Policy
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return attest.Policy{}, fmt.Errorf("policy %s: %w", path, err)
	}
	if d.More() {
		return attest.Policy{}, fmt.Errorf("policy %s: trailing data", path)
	}
	if err := p.Validate(); err != nil {
		return attest.Policy{}, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

func attestJSON(v attest.Verified, at time.Time) attestVerifyJSON {
	out := attestVerifyJSON{
		TEE:               string(v.TEE),
		ReportData:        hex.EncodeToString(v.ReportData[:]),
		Debug:             v.Debug,
		TCBStatus:         v.TCBStatus,
		AdvisoryIDs:       append([]string{}, v.AdvisoryIDs...),
		FMSPC:             v.FMSPC,
		TCBEvalDataNumber: v.TCBEvalDataNumber,
		RevocationChecked: v.RevocationChecked,
		VerifiedAt:        at.Unix(),
	}
	if !v.CollateralIssued.IsZero() {
		out.CollateralIssued = v.CollateralIssued.UTC().Format(time.RFC3339)
	}
	switch v.TEE {
	case attest.KindTDX:
		out.MrTd = hex.EncodeToString(v.MrTd[:])
		for _, r := range v.Rtmrs {
			out.Rtmrs = append(out.Rtmrs, hex.EncodeToString(r[:]))
		}
	case attest.KindSGX:
		out.MrEnclave = hex.EncodeToString(v.MrEnclave[:])
		out.MrSigner = hex.EncodeToString(v.MrSigner[:])
		out.IsvProdID, out.IsvSvn = &v.IsvProdID, &v.IsvSvn
	default: // sim
		out.MrEnclave = hex.EncodeToString(v.MrEnclave[:])
	}
	return out
}
