package tdx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-tdx-guest/abi"
	pb "github.com/google/go-tdx-guest/proto/tdx"
)

// TestRealQuoteOffsets checks the offsets tdReportBody uses against an
// independent parser (go-tdx-guest) on a real TDX v4 quote kept beside the
// module (../shared/testdata/attestation/oasis-core-vectors).
func TestRealQuoteOffsets(t *testing.T) {
	for _, name := range []string{"quote_v4_tdx_ecdsa_p256.bin", "quote_v4_tdx_ecdsa_p256_out_of_date.bin"} {
		t.Run(name, func(t *testing.T) {
			q, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "attestation", "oasis-core-vectors", name))
			if err != nil {
				t.Skipf("real quote absent: %v", err)
			}
			parsed, err := abi.QuoteToProto(q)
			if err != nil {
				t.Fatal(err)
			}
			want := parsed.(*pb.QuoteV4).GetTdQuoteBody()
			body, err := tdReportBody(q)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body[mrtdOffset:mrtdOffset+mrtdSize], want.GetMrTd()) {
				t.Fatalf("MRTD %x, want %x", body[mrtdOffset:mrtdOffset+mrtdSize], want.GetMrTd())
			}
			if !bytes.Equal(body[reportDataOffset:reportDataOffset+64], want.GetReportData()) {
				t.Fatalf("report data %x, want %x", body[reportDataOffset:reportDataOffset+64], want.GetReportData())
			}
		})
	}
}
