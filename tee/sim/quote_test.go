package sim

import (
	"bytes"
	"testing"
	"time"

	"github.com/phala-go/phala/attest"
)

func TestQuoteVerifiesWithAttest(t *testing.T) {
	s := newSim(t, t.TempDir(), measA)
	at := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name string
		rd   [64]byte
	}{
		{"zero", [64]byte{}},
		{"pattern", [64]byte{0: 1, 31: 2, 63: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := s.Quote(tc.rd)
			if err != nil {
				t.Fatal(err)
			}
			v, err := attest.Verify(q, attest.Collateral{}, at, attest.AllowSim())
			if err != nil {
				t.Fatal(err)
			}
			if v.TEE != attest.KindSim || v.MrEnclave != measA || v.ReportData != tc.rd {
				t.Fatalf("verified %s quote of %x over %x; want sim, %x, %x", v.TEE, v.MrEnclave, v.ReportData, measA, tc.rd)
			}
			if !bytes.Equal(v.MrEnclave[:], s.Measurement()) {
				t.Fatal("quote measurement differs from Measurement()")
			}
			if _, err := attest.Verify(q, attest.Collateral{}, at); err == nil {
				t.Fatal("sim quote accepted without AllowSim")
			}
			forged := bytes.Clone(q)
			i := bytes.Index(forged, tc.rd[:])
			if i < 0 {
				t.Fatal("report data not found in the quote")
			}
			forged[i] ^= 1
			if _, err := attest.Verify(forged, attest.Collateral{}, at, attest.AllowSim()); err == nil {
				t.Fatal("quote with changed report data verified")
			}
		})
	}
}
