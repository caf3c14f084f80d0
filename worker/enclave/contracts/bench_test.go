package contracts_test

import (
	"testing"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
)

// BenchmarkBlockOfTransfers folds blocks of 100 encrypted token transfers
// (open the envelope, run the method, root, results): the worker's
// execution rate, without the chain.
func BenchmarkBlockOfTransfers(b *testing.B) {
	w := newWorld(b)
	m := newModule(w)
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000000000}`)...)
	const n = 100
	bob := address.Module("bob")
	seq := uint64(0)
	h := int64(1)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		msgs := make([]mq.Message, n)
		for i := range msgs {
			seq++
			msgs[i] = w.command(seq, w.deployer, "transfer", transfer(bob, 1), 100_000_000)
		}
		h++
		b.StartTimer()
		w.block(m, h, registryapi.RoleWorker, msgs...)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "commands/s")
}
