package envelope

import (
	"testing"
	"time"
)

// benchPayload is about the size of a command or a key hand-out with its
// metadata.
var benchPayload = make([]byte, 256)

func BenchmarkSeal(b *testing.B) {
	for _, s := range allSuites {
		b.Run(s.String(), func(b *testing.B) {
			pub := mustKey(b, s).PublicKey()
			for b.Loop() {
				if _, err := Seal(chain, Command, pub, benchPayload, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seals/s")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, s := range allSuites {
		b.Run(s.String(), func(b *testing.B) {
			k := mustKey(b, s)
			env := mustSeal(b, Command, k, benchPayload, nil)
			for b.Loop() {
				if _, err := Open(chain, Command, k, env, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "opens/s")
		})
	}
}

// BenchmarkHybridVsX25519 runs both suites in the same loop, so they see the
// same machine load, and reports the cost of the post-quantum half as the
// ratio of hybrid time to X25519 time.
func BenchmarkHybridVsX25519(b *testing.B) {
	type side struct {
		key        hpkePriv
		env        []byte
		seal, open time.Duration
	}
	var sides [2]side
	for i, s := range allSuites {
		sides[i].key = mustKey(b, s)
		sides[i].env = mustSeal(b, Command, sides[i].key, benchPayload, nil)
	}
	n := 0
	for b.Loop() {
		for i := range sides {
			sd := &sides[i]
			t0 := time.Now()
			if _, err := Seal(chain, Command, sd.key.PublicKey(), benchPayload, nil); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := Open(chain, Command, sd.key, sd.env, nil); err != nil {
				b.Fatal(err)
			}
			sd.seal += t1.Sub(t0)
			sd.open += time.Since(t1)
		}
		n++
	}
	h, x := sides[0], sides[1]
	perSec := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	b.ReportMetric(perSec(h.seal), "hybrid-seals/s")
	b.ReportMetric(perSec(h.open), "hybrid-opens/s")
	b.ReportMetric(perSec(x.seal), "x25519-seals/s")
	b.ReportMetric(perSec(x.open), "x25519-opens/s")
	b.ReportMetric(float64(h.seal)/float64(x.seal), "seal-ratio")
	b.ReportMetric(float64(h.open)/float64(x.open), "open-ratio")
	b.Logf("n=%d: hybrid %.0f seals/s %.0f opens/s; x25519 %.0f seals/s %.0f opens/s; hybrid/x25519 time ratio seal %.2f open %.2f",
		n, perSec(h.seal), perSec(h.open), perSec(x.seal), perSec(x.open),
		float64(h.seal)/float64(x.seal), float64(h.open)/float64(x.open))
}
