package devworker

import (
	"testing"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// leastStake is the minimum stake rounded up to whole PHA: never below the
// minimum, never a whole PHA more than it needs.
func TestLeastStake(t *testing.T) {
	p := computeapi.DevnetParams()
	cases := []struct {
		score uint64
		want  token.Amount
	}{
		{400, token.PHA(1000)},  // 50·√400 = 1000 exactly
		{2000, token.PHA(2237)}, // 50·√2000 ≈ 2236.07
		{3062, token.PHA(2767)}, // 50·√3062 ≈ 2766.77
	}
	for _, c := range cases {
		got, err := leastStake(p, c.score)
		if err != nil {
			t.Fatal(err)
		}
		min, _ := tokenomics.MinStake(p.Economy, c.score)
		if got != c.want || got.Cmp(min) < 0 {
			t.Errorf("leastStake(%d) = %s (minimum %s), want %s", c.score, got.PHAString(), min.PHAString(), c.want.PHAString())
		}
	}
}
