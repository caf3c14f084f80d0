package computeapi

import (
	"fmt"
	"time"

	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// Params are the compute module's rules: the economy's formulas' params
// and the clock of challenges and settlements, every period in block time.
type Params struct {
	Economy tokenomics.Params `json:"economy"`
	// SettleEvery is the length of a settlement period.
	SettleEvery time.Duration `json:"settle_every"`
	// ChallengeEvery is the mean block time between two challenges of one
	// worker; a block challenges each session with probability (time
	// since the previous block)/ChallengeEvery, so about
	// computing × span/ChallengeEvery sessions a block...
	ChallengeEvery time.Duration `json:"challenge_every"`
	// ...but never more than MaxChallengesPerBlock on average.
	MaxChallengesPerBlock uint64 `json:"max_challenges_per_block"`
	// AnswerWindow is how much block time a challenged worker has to
	// answer: the answer's block time minus the challenge's.
	AnswerWindow time.Duration `json:"answer_window"`
	// SlashShare of a session's stake goes to the treasury when its
	// worker is caught by a discrepancy or its TCB is revoked.
	SlashShare fixed.Q `json:"slash_share"`
}

// DefaultParams: Phala's economy (tokenomics.DefaultParams), settlements
// every 10 minutes, each worker challenged about every 30 minutes (Phala:
// at most twice an hour) with 2 minutes to answer (Phala: 10 blocks of
// 12 s), 10% of the stake slashed for cheating.
func DefaultParams() Params {
	return Params{
		Economy:               tokenomics.DefaultParams(),
		SettleEvery:           10 * time.Minute,
		ChallengeEvery:        30 * time.Minute,
		MaxChallengesPerBlock: 20,
		AnswerWindow:          2 * time.Minute,
		SlashShare:            fixed.MustRatio(1, 10),
	}
}

// DevnetParams are DefaultParams on a clock a developer can watch:
// settlements every 10 s, challenges about every 20 s per worker with
// 10 s to answer, a cool-down of a minute.
func DevnetParams() Params {
	p := DefaultParams()
	p.SettleEvery = 10 * time.Second
	p.ChallengeEvery = 20 * time.Second
	p.AnswerWindow = 10 * time.Second
	p.Economy.CoolDown = time.Minute
	return p
}

// Validate checks the ranges of the params that are the module's own and
// of the economy's (tokenomics.Params.Validate with the given pool: the
// whole schedule must fit in it).
func (p Params) Validate(pool token.Amount) error {
	if err := p.Economy.Validate(pool); err != nil {
		return ErrParams.Wrapf("%v", err)
	}
	checks := []struct {
		name string
		bad  bool
		want string
	}{
		{"settle_every", p.SettleEvery < time.Second || p.SettleEvery > 24*time.Hour, "in [1s, 24h]"},
		{"challenge_every", p.ChallengeEvery < time.Second || p.ChallengeEvery > 7*24*time.Hour, "in [1s, 7 days]"},
		{"max_challenges_per_block", p.MaxChallengesPerBlock == 0 || p.MaxChallengesPerBlock > 10_000, "in [1, 10000]"},
		{"answer_window", p.AnswerWindow < time.Second || p.AnswerWindow > 24*time.Hour, "in [1s, 24h]"},
		{"slash_share", p.SlashShare.Cmp(fixed.One) > 0, "at most 1"},
		{"economy.treasury_share", p.Economy.TreasuryShare.Cmp(fixed.One) > 0, "at most 1"},
	}
	for _, c := range checks {
		if c.bad {
			return ErrParams.Wrapf("%s must be %s", c.name, c.want)
		}
	}
	// The cool-down must outlast a settlement period, so a stopped
	// session is still known when the period it stopped in settles.
	if p.Economy.CoolDown < p.SettleEvery {
		return ErrParams.Wrapf("economy.cool_down %s must be at least settle_every %s", p.Economy.CoolDown, p.SettleEvery)
	}
	return nil
}

// Genesis is the module's genesis section.
type Genesis struct {
	Params Params `json:"params"`
}

// DefaultGenesis has the default params.
func DefaultGenesis() Genesis { return Genesis{Params: DefaultParams()} }

// String is for errors and logs.
func (p Params) String() string {
	return fmt.Sprintf("settle every %s, challenge every %s (at most %d a block), answer within %s", p.SettleEvery, p.ChallengeEvery, p.MaxChallengesPerBlock, p.AnswerWindow)
}
