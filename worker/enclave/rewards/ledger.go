package rewards

import (
	"fmt"
	"time"

	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// The ledger: a gatekeeper's account of every session's value V, as a
// pure function of the session events, the challenges, the accepted
// answers and block times. Every gatekeeper folds the same blocks, so
// every one holds the same accounts and settles the same bytes.

// Account is one session as the gatekeeper accounts for it.
type Account struct {
	_          struct{} `cbor:",toarray"`
	Session    uint64
	Worker     []byte
	Score      uint64
	Confidence tokenomics.Confidence
	// StartHeight and StopHeight decide which challenges the session owes
	// (computeapi.Session.Owes); StopHeight is 0 while it computes.
	StartHeight int64
	StopHeight  int64
	// V is the session's value as of UpdatedAt.
	V fixed.Q
	// Payable is what V grew since the last settlement (Phala's
	// v_deductible): a settlement takes the reward out of V up to it.
	Payable fixed.Q
	// UpdatedAt is the block time (unix ns) V is as of. It moves in whole
	// seconds, so the fraction of a second left over counts next time
	// and no time is lost or counted twice.
	UpdatedAt int64
	// Active is the whole seconds the session computed and answered in
	// the period being accounted.
	Active uint64
	// Unresponsive: the session missed a challenge and has not answered
	// one since; its V decays and it earns nothing.
	Unresponsive bool
	// Owed are the heights of the challenges it owes an answer to.
	Owed []int64
}

// stopped reports whether the session stopped: it is settled once more
// for the period it stopped in, then dropped.
func (a *Account) stopped() bool { return a.StopHeight != 0 }

// owes is the chain's rule (computeapi.Session.Owes).
func (a *Account) owes(h int64) bool {
	return computeapi.Session{StartHeight: a.StartHeight, StopHeight: a.StopHeight}.Owes(h)
}

// advance brings V to block time `to`: grown while responsive (the growth
// is payable and the seconds active), decayed while unresponsive (nothing
// payable). It never goes back.
func (a *Account) advance(r tokenomics.Rates, to int64) {
	if to <= a.UpdatedAt {
		return
	}
	secs := uint64(to-a.UpdatedAt) / uint64(time.Second)
	if secs == 0 {
		return
	}
	span := time.Duration(secs) * time.Second
	if a.Unresponsive {
		a.V, a.Payable = r.Decay(a.V, span), fixed.Zero
	} else {
		grown := r.Grow(a.V, a.Score, span)
		a.Payable, _ = a.Payable.Add(grown.SubFloor(a.V)) // ≤ v_max
		a.V = grown
		a.Active += secs
	}
	a.UpdatedAt += int64(span)
}

// state is where the session stands for the chain.
func (a *Account) state() computeapi.State {
	if a.Unresponsive {
		return computeapi.StateUnresponsive
	}
	return computeapi.StateComputing
}

// Period is the accounting of one settlement period.
type Period struct {
	N      uint64 // counts from 1
	Start  int64  // block time (unix ns) the economy started
	Length time.Duration
}

// End is the block time the period ends at: start + N·Length.
func (p Period) End() int64 { return p.Start + int64(p.N)*int64(p.Length) }

// Budget is the schedule's emission over the period.
func (p Period) Budget(e tokenomics.Params) (token.Amount, error) {
	return tokenomics.Budget(e, time.Duration(p.N-1)*p.Length, time.Duration(p.N)*p.Length)
}

// settle accounts for period per over accounts (sorted by session), all
// advanced to its end, or to their stop if they stopped in it: each
// responsive session's reward is the period's budget in proportion to
// its share times the fraction of the period it was active; the pool's
// part of the reward comes out of V up to what V grew since the last
// settlement. It changes accounts (V, Payable, Active) and returns one
// entry a session.
func settle(p computeapi.Params, r tokenomics.Rates, per Period, accounts []Account) ([]computeapi.WorkerSettlement, error) {
	budget, err := per.Budget(p.Economy)
	if err != nil {
		return nil, err
	}
	end := per.End()
	periodSecs := uint64(per.Length / time.Second)
	weights := make([]fixed.Q, len(accounts))
	for i := range accounts {
		a := &accounts[i]
		if !a.stopped() {
			a.advance(r, end)
		}
		if a.Unresponsive {
			continue
		}
		share, err := tokenomics.Share(a.V, a.Score, a.Confidence)
		if err != nil {
			return nil, fmt.Errorf("share of session %d: %w", a.Session, err)
		}
		weights[i] = tokenomics.Weight(share, a.Active, periodSecs)
	}
	rewards, err := tokenomics.Divide(budget, weights)
	if err != nil {
		return nil, err
	}
	out := make([]computeapi.WorkerSettlement, len(accounts))
	for i := range accounts {
		a := &accounts[i]
		if err := a.pay(p.Economy, rewards[i]); err != nil {
			return nil, fmt.Errorf("session %d: %w", a.Session, err)
		}
		out[i] = computeapi.WorkerSettlement{Session: a.Session, State: a.state(), V: a.V, Reward: rewards[i]}
	}
	return out, nil
}

// pay takes the pool's part of a reward out of V, up to what V grew since
// the last settlement (Phala's rule: V never falls below where the last
// settlement left it), and starts the next period's count.
func (a *Account) pay(e tokenomics.Params, reward token.Amount) error {
	pool, _ := e.Split(reward)
	paid, err := tokenomics.PHA(pool)
	if err != nil {
		return err
	}
	a.V = a.V.SubFloor(fixed.Min(paid, a.Payable))
	a.Payable, a.Active = fixed.Zero, 0
	return nil
}
