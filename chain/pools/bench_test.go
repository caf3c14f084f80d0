package pools

import (
	"fmt"
	"testing"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

type emptyReader struct{}

func (emptyReader) Get([]byte) ([]byte, error) { return nil, nil }

// BenchmarkRewarded is the pools' part of settling a period of 10,000
// computing workers on chain. Compute adds rewards up per pool and
// settlement part (at most 1,000 sessions a part), so the pools module is
// told once per pool and part: 10,000 times in the worst case (every
// worker a pool of its own), about 1,000 times with 10,000 workers in 100
// pools. Each call reads the pool, splits the reward and writes it back.
func BenchmarkRewarded(b *testing.B) {
	for _, calls := range []int{10_000, 1_000} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) { benchRewarded(b, calls) })
	}
}

func benchRewarded(b *testing.B, pools int) {
	base := state.NewOverlay(emptyReader{})
	for i := range pools {
		p := poolsapi.Pool{ID: poolsapi.ID(i + 1), Owner: address.Module("owner"), Commission: 100_000}
		var d poolsapi.Delegation
		if _, err := delegate(&p, &d, token.PHA(uint64(3000+i))); err != nil {
			b.Fatal(err)
		}
		reward(&p, token.PHA(1)) // an accumulator that is not zero
		putPool(base, p)
	}
	amount := token.FromUint64(1_234_567_891)
	for b.Loop() {
		ctx := &module.Context{Store: base.Branch()}
		for i := range pools {
			if err := (Module{}).Rewarded(ctx, uint64(i+1), amount); err != nil {
				b.Fatal(err)
			}
		}
	}
}
