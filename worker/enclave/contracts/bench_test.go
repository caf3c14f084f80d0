package contracts_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/mq"
)

// BenchmarkBlockOfTransfers folds blocks of 100 encrypted token transfers
// (open the envelope, run the method, commit the state, root, results):
// the worker's execution rate, without the chain. It also reports the
// process's CPU time per block, which swings much less than the wall
// clock on a shared machine.
func BenchmarkBlockOfTransfers(b *testing.B) {
	w := newWorld(b)
	m := newModule(w)
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000000000}`)...)
	const n = 100
	bob := address.Module("bob")
	seq := uint64(0)
	h := int64(1)
	var cpu time.Duration
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
		start := processCPU()
		w.block(m, h, registryapi.RoleWorker, msgs...)
		cpu += processCPU() - start
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "commands/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/block")
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
