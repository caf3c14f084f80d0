package attest

import "testing"

// BenchmarkVerify: one full verification of the real SGX quote with all
// collateral (PCK chain, both CRLs, TCB info, QE identity).
func BenchmarkVerify(b *testing.B) {
	q, c := phalaCollateral(b)
	opt := WithPolicy(acceptConfigAndSW)
	if _, err := Verify(q, c, phalaAt, opt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start, n := cpuTime(), 0
	for b.Loop() {
		if _, err := Verify(q, c, phalaAt, opt); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if used := cpuTime() - start; used > 0 && n > 0 {
		// CPU time (all threads, GC included) per verification: robust
		// when the machine is shared.
		b.ReportMetric(float64(used.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

func BenchmarkVerifySyntheticTDX(b *testing.B) {
	e := newEnv(b, true)
	q, c := e.build()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(q, c, e.at, WithRoot(e.root)); err != nil {
			b.Fatal(err)
		}
	}
}
