package enclave

import (
	"testing"
)

// BenchmarkApply verifies and folds a batch of 50 real blocks (one commit
// checked, 50 headers linked, 49 digests hashed) from genesis.
func BenchmarkApply(b *testing.B) {
	c := chain(b)
	rt := c.open(b, b.TempDir(), newSim(b, b.TempDir(), 1), 1<<40)
	defer rt.Close()
	const n = 50
	c.waitHeight(b, n+1)
	batch := c.batch(b, 1, n)
	gen := rt.snapshot()
	for b.Loop() {
		if err := rt.restore(gen); err != nil {
			b.Fatal(err)
		}
		if err := rt.Apply(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "blocks/s")
}

// BenchmarkCheckpoint seals and writes the state after 50 blocks.
func BenchmarkCheckpoint(b *testing.B) {
	c := chain(b)
	rt := c.open(b, b.TempDir(), newSim(b, b.TempDir(), 1), 1<<40)
	defer rt.Close()
	c.feed(b, rt, 50)
	for b.Loop() {
		if err := rt.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
}
