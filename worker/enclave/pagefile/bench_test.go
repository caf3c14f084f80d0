package pagefile_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/worker/enclave/pagefile"
	"github.com/phala-go/phala/worker/enclave/statetree"
)

// BenchmarkBlockOverLargeState is one block's state work on a contract
// holding 100,000 balances (20-byte keys, 8-byte values): 200 random
// updates, then the root. "tree" is the state tree in page files (sets,
// then Commit: the changed pages sealed and written); "flat" is how the
// worker did it before: a MemStore, and a SHA-256 over every entry for
// the root, every block.
func BenchmarkBlockOverLargeState(b *testing.B) {
	const entries, updates = 100_000, 200
	key := func(i int) []byte { return fmt.Appendf(nil, "bal/%016x", uint64(i)*0x9e3779b97f4a7c15) }
	val := func(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }
	b.Run("tree", func(b *testing.B) {
		d, err := pagefile.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		tr := open(b, d.Store("c0ffee"), statetree.PageID{}, statetree.NewCache(statetree.DefaultCacheBytes))
		for i := range entries {
			if err := tr.Set(key(i), val(1)); err != nil {
				b.Fatal(err)
			}
			if i%5000 == 4999 {
				commit(b, tr)
			}
		}
		commit(b, tr)
		rng := rand.New(rand.NewPCG(1, 1))
		start := processCPU()
		b.ResetTimer()
		for n := range b.N {
			for range updates {
				if err := tr.Set(key(rng.IntN(entries)), val(uint64(n))); err != nil {
					b.Fatal(err)
				}
			}
			commit(b, tr)
		}
		reportCPU(b, start)
	})
	b.Run("flat", func(b *testing.B) {
		s := vm.NewMemStore()
		for i := range entries {
			_ = s.Set(key(i), val(1))
		}
		rng := rand.New(rand.NewPCG(1, 1))
		start := processCPU()
		b.ResetTimer()
		for n := range b.N {
			for range updates {
				_ = s.Set(key(rng.IntN(entries)), val(uint64(n)))
			}
			flatRoot(s)
		}
		reportCPU(b, start)
	})
}

// processCPU is the CPU time (user and system) the process has used: on a
// shared machine it swings much less than the wall clock.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((processCPU()-start).Microseconds())/1000/float64(b.N), "cpu-ms/block")
}

// flatRoot is the state root workers published before the state tree:
// SHA-256 of a domain and every entry in key order, length-prefixed.
func flatRoot(s *vm.MemStore) [32]byte {
	h := sha256.New()
	h.Write([]byte("phala/contract-state/v1"))
	var after []byte
	var n [4]byte
	for {
		k, v, ok, _ := s.Next(nil, after)
		if !ok {
			break
		}
		binary.BigEndian.PutUint32(n[:], uint32(len(k)))
		h.Write(n[:])
		h.Write(k)
		binary.BigEndian.PutUint32(n[:], uint32(len(v)))
		h.Write(n[:])
		h.Write(v)
		after = k
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
