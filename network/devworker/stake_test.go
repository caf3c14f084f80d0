package devworker

import (
	"testing"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/token"
)

// TestDevStake: a tenth above the minimum (50·sqrt(P) PHA), in whole PHA.
func TestDevStake(t *testing.T) {
	p := computeapi.DevnetParams()
	for _, c := range []struct {
		score uint64
		want  uint64
	}{
		{2000, 2460},  // 2,236.07 · 1.1 = 2,459.67
		{2500, 2750},  // 2,500 · 1.1
		{10000, 5500}, // 5,000 · 1.1
	} {
		got, err := devStake(p, c.score)
		if err != nil || got != token.PHA(c.want) {
			t.Errorf("score %d: %s %v, want %d PHA", c.score, got.PHAString(), err, c.want)
		}
	}
}
