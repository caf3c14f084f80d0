package fixed

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

func words(w ...uint64) *big.Int {
	n := new(big.Int)
	for _, x := range w {
		n.Lsh(n, 64)
		n.Or(n, new(big.Int).SetUint64(x))
	}
	return n
}

// checkWords compares divWords and sqrtWords with math/big on one input.
func checkWords(t *testing.T, n2, n1, n0, d1, d0 uint64) {
	t.Helper()
	if d1|d0 != 0 {
		q1, q0, ok := divWords(n2, n1, n0, d1, d0)
		want := new(big.Int).Quo(words(n2, n1, n0), words(d1, d0))
		switch {
		case want.BitLen() > 128 && ok:
			t.Fatalf("divWords(%x %x %x / %x %x) = %x %x, want overflow", n2, n1, n0, d1, d0, q1, q0)
		case want.BitLen() <= 128 && (!ok || words(q1, q0).Cmp(want) != 0):
			t.Fatalf("divWords(%x %x %x / %x %x) = %x %x %v, want %x", n2, n1, n0, d1, d0, q1, q0, ok, want)
		}
	}
	h, l := sqrtWords(n2, n1)
	if want := new(big.Int).Sqrt(words(n2, n1, 0)); words(h, l).Cmp(want) != 0 {
		t.Fatalf("sqrtWords(%x %x) = %x %x, want %x", n2, n1, h, l, want)
	}
}

// The edges of Knuth's algorithm: saturated estimates, add-backs, divisors
// with one bit set or all, shifts of 0 and 63.
func TestWordsEdges(t *testing.T) {
	vals := []uint64{0, 1, 2, 3, 1 << 31, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, 1<<63 + 1, ^uint64(0) - 1, ^uint64(0)}
	for _, n2 := range vals {
		for _, n1 := range vals {
			for _, d1 := range vals {
				for _, d0 := range vals {
					checkWords(t, n2, n1, 0, d1, d0)
					checkWords(t, n2, n1, ^uint64(0), d1, d0)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		// Random widths, so every size of operand and quotient comes up.
		w := func() uint64 { return rng.Uint64() >> rng.UintN(64) }
		checkWords(t, w(), w(), w(), w(), w())
	}
}

func FuzzWordsAgainstBig(f *testing.F) {
	f.Add(uint64(1), uint64(0), uint64(0), uint64(1), uint64(0))
	f.Add(^uint64(0), ^uint64(0), ^uint64(0), uint64(1)<<63, uint64(1))
	f.Fuzz(func(t *testing.T, n2, n1, n0, d1, d0 uint64) { checkWords(t, n2, n1, n0, d1, d0) })
}
