package lightclient

import (
	"fmt"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/relaywire"
)

// BenchmarkVerify measures verification of a batch of consecutive headers
// from genesis: n header decodes, hashes and app-hash checks plus one
// commit. "decoded" includes the CBOR decoding of the batch body the
// runtime receives.
func BenchmarkVerify(b *testing.B) {
	for _, nvals := range []int{1, 4} {
		c := newTestChain(b, "bench-chain", newSigners(b, "bench", nvals)).extend(1000)
		st := c.genesisState()
		for _, n := range []int64{100, 1000} {
			batch := c.batch(1, n)
			raw := codec.MustMarshal(batch)
			b.Run(fmt.Sprintf("vals=%d/blocks=%d", nvals, n), func(b *testing.B) {
				for b.Loop() {
					if _, _, err := Verify(st, batch); err != nil {
						b.Fatal(err)
					}
				}
				report(b, n)
			})
			b.Run(fmt.Sprintf("vals=%d/blocks=%d/decoded", nvals, n), func(b *testing.B) {
				for b.Loop() {
					var bt relaywire.Batch
					if err := codec.Unmarshal(raw, &bt); err != nil {
						b.Fatal(err)
					}
					if _, _, err := Verify(st, bt); err != nil {
						b.Fatal(err)
					}
				}
				report(b, n)
			})
		}
	}
}

func report(b *testing.B, blocks int64) {
	sec := b.Elapsed().Seconds()
	total := float64(blocks) * float64(b.N)
	b.ReportMetric(total/sec, "blocks/s")
	b.ReportMetric(sec*1e6/total, "µs/block")
}
