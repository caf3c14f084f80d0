package tokenomics

import (
	"errors"

	"github.com/phala-go/phala/tokenomics/fixed"
)

// ErrTooMuchStake: a stake whose initial value would exceed VMax.
var ErrTooMuchStake = errors.New("tokenomics: stake too large")

// Confidence is how far the chain trusts a worker's platform, from its
// attestation: 1 (best) to 5, as in Phala. It scales the stake multiplier
// and the performance part of the share.
type Confidence uint8

// Confidence levels.
const (
	ConfidenceUpToDate      Confidence = 1 // TCB up to date
	ConfidenceSWHardening   Confidence = 2 // up to date with software hardening needed
	ConfidenceConfiguration Confidence = 3 // configuration needed
	ConfidenceOutOfDate     Confidence = 4 // out of date but accepted by the policy
	ConfidenceSimulated     Confidence = 5 // no hardware (sim) or unknown status
)

var confidenceScores = [...]fixed.Q{
	ConfidenceUpToDate:      fixed.One,
	ConfidenceSWHardening:   fixed.One,
	ConfidenceConfiguration: fixed.One,
	ConfidenceOutOfDate:     fixed.MustRatio(8, 10),
	ConfidenceSimulated:     fixed.MustRatio(7, 10),
}

// Score is the level's factor in [0, 1]: 1 for levels 1 to 3, 0.8 for 4,
// 0.7 for 5, 0 for anything else.
func (c Confidence) Score() fixed.Q {
	if c == 0 || int(c) >= len(confidenceScores) {
		return fixed.Zero
	}
	return confidenceScores[c]
}
