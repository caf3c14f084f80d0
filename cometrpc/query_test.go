package cometrpc

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeProvenQuery(t *testing.T) {
	op := func(typ, data string) string {
		return `{"type":"` + typ + `","key":"AQE=","data":"` + data + `"}`
	}
	answer := func(proof string) string {
		return `{"response":{"code":0,"key":"AQE=","value":"gvVA","proofOps":` + proof + `,"height":"5"}}`
	}
	tests := []struct {
		name    string
		raw     string
		wantOps int  // -1: no proof
		wantErr bool // ErrMalformed
	}{
		{"seed", provenQueryJSON, 2, false},
		{"no proof", answer("null"), -1, false},
		{"empty proof", answer(`{"ops":[]}`), 0, false},
		{"too many ops", answer(`{"ops":[` + strings.TrimSuffix(strings.Repeat(op("x", "AA==")+",", MaxProofOps+1), ",") + `]}`), 0, true},
		{"op too large", answer(`{"ops":[` + op("x", strings.Repeat("A", MaxProofOpData/3*4+8)) + `]}`), 0, true},
		{"data not base64", answer(`{"ops":[` + op("x", "!!") + `]}`), 0, true},
		{"ops not a list", answer(`{"ops":{}}`), 0, true},
		{"negative height", `{"response":{"height":"-1"}}`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := DecodeABCIQuery([]byte(tc.raw))
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := -1
			if q.ProofOps != nil {
				got = len(q.ProofOps.Ops)
			}
			if got != tc.wantOps {
				t.Fatalf("%d operations, want %d", got, tc.wantOps)
			}
		})
	}
}
