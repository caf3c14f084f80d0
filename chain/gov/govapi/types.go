// Package govapi is the governance module's wire form: proposals and their
// actions, deposits, votes, tallies, the upgrade plan, params and genesis,
// stored keys, method, query and event names, error kinds and gas. Clients
// and the application import it; the handlers live in chain/gov.
//
// A proposal carries actions: transactions of other modules' Authority
// methods (module.Method.Authority), run with chain/authority's Gov
// address as their sender when the proposal passes. So parameter changes
// ("<module>.set_params"), the attestation policy, gatekeepers, master key
// rotation, clusters, treasury spends and upgrades all execute in one
// place with one shape, and each is checked when proposed by running it
// on a state that is thrown away.
package govapi

import (
	"time"

	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "gov"

// Deposits is the module account that holds proposals' deposits until
// they are refunded or burned. Governance's own sender (authority.Gov) is
// a different address and holds nothing.
var Deposits = address.Module("gov/deposits")

// Transactions.
const (
	MethodPropose = "gov.propose" // body Propose; the sender's deposit goes to Deposits
	MethodDeposit = "gov.deposit" // body Deposit
	MethodVote    = "gov.vote"    // body Vote; a later vote replaces an earlier one
	// Authority methods: a proposal's actions.
	MethodSetParams     = "gov.set_params"     // body module.ParamChange
	MethodSpendTreasury = "gov.spend_treasury" // body Spend
	MethodUpgrade       = "gov.schedule_upgrade"
	MethodCancelUpgrade = "gov.cancel_upgrade" // body CancelUpgrade
)

// Queries.
const (
	QueryProposals = "gov/proposals" // data ListQuery → ProposalList
	QueryProposal  = "gov/proposal"  // data ProposalQuery → ProposalInfo
	QueryVotes     = "gov/votes"     // data ProposalQuery → VoteList
	QueryParams    = "gov/params"    // → ParamsInfo
	QueryUpgrade   = "gov/upgrade"   // → UpgradeInfo
)

// Events.
const (
	EventProposed        = "gov_proposed"
	EventDeposited       = "gov_deposited"
	EventVotingStarted   = "gov_voting_started"
	EventVoted           = "gov_voted"
	EventEnded           = "gov_ended"    // status, tally
	EventExecuted        = "gov_executed" // an action ran
	EventDropped         = "gov_dropped"  // the deposit period ended short
	EventTreasurySpent   = "gov_treasury_spent"
	EventParamsChanged   = "gov_params_changed"
	EventUpgradeSchedule = "gov_upgrade_scheduled"
	EventUpgradeCanceled = "gov_upgrade_canceled"
)

// Status is where a proposal is in its life.
type Status uint8

// Statuses.
const (
	StatusDeposit  Status = 1 // collecting deposits until MinDeposit
	StatusVoting   Status = 2
	StatusPassed   Status = 3 // passed and its actions ran
	StatusRejected Status = 4 // quorum met, threshold not: deposit refunded
	StatusVetoed   Status = 5 // deposit burned
	StatusNoQuorum Status = 6 // deposit burned
	StatusFailed   Status = 7 // passed, but an action failed when run: nothing changed, deposit refunded
	StatusDropped  Status = 8 // the deposit period ended below MinDeposit: deposit refunded
)

func (s Status) String() string {
	switch s {
	case StatusDeposit:
		return "deposit"
	case StatusVoting:
		return "voting"
	case StatusPassed:
		return "passed"
	case StatusRejected:
		return "rejected"
	case StatusVetoed:
		return "vetoed"
	case StatusNoQuorum:
		return "no_quorum"
	case StatusFailed:
		return "failed"
	case StatusDropped:
		return "dropped"
	}
	return "unknown"
}

// Option is a vote.
type Option uint8

// Options.
const (
	OptionYes     Option = 1
	OptionNo      Option = 2
	OptionAbstain Option = 3
	OptionVeto    Option = 4 // no, and burn the deposit
)

func (o Option) String() string {
	switch o {
	case OptionYes:
		return "yes"
	case OptionNo:
		return "no"
	case OptionAbstain:
		return "abstain"
	case OptionVeto:
		return "veto"
	}
	return "unknown"
}

// Action is one transaction a proposal runs with authority.Gov as its
// sender: an Authority method and its body in the method's own encoding.
type Action struct {
	_      struct{} `cbor:",toarray"`
	Method string   `json:"method"`
	Body   []byte   `json:"body"`
}

// Propose is the body of "gov.propose".
type Propose struct {
	_           struct{}     `cbor:",toarray"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Actions     []Action     `json:"actions"`
	Deposit     token.Amount `json:"deposit"`
}

// Deposit is the body of "gov.deposit".
type Deposit struct {
	_        struct{}     `cbor:",toarray"`
	Proposal uint64       `json:"proposal"`
	Amount   token.Amount `json:"amount"`
}

// Vote is the body of "gov.vote".
type Vote struct {
	_        struct{} `cbor:",toarray"`
	Proposal uint64   `json:"proposal"`
	Option   Option   `json:"option"`
}

// Spend is the body of "gov.spend_treasury": the treasury pays To.
type Spend struct {
	_      struct{}        `cbor:",toarray"`
	To     address.Address `json:"to"`
	Amount token.Amount    `json:"amount"`
}

// Plan is a software upgrade: at Height the chain stops until nodes run a
// release that knows Name (body of "gov.schedule_upgrade").
type Plan struct {
	_      struct{} `cbor:",toarray"`
	Name   string   `json:"name"`
	Height int64    `json:"height"`
	Info   string   `json:"info"` // where to get the release, for operators
}

// CancelUpgrade is the body of "gov.cancel_upgrade".
type CancelUpgrade struct {
	_    struct{} `cbor:",toarray"`
	Name string   `json:"name"`
}

// Tally is a proposal's counted votes: weights in base units of PHA held
// plus delegated in stake pools, read when voting ends.
type Tally struct {
	_       struct{}     `cbor:",toarray"`
	Yes     token.Amount `json:"yes"`
	No      token.Amount `json:"no"`
	Abstain token.Amount `json:"abstain"`
	Veto    token.Amount `json:"veto"`
	// Eligible is the quorum's whole: PHA outside the module accounts
	// that cannot vote (reward pool, treasury, community, deposits,
	// burned).
	Eligible token.Amount `json:"eligible"`
	Voters   uint64       `json:"voters"`
}

// Proposal is a stored proposal.
type Proposal struct {
	_            struct{}        `cbor:",toarray"`
	ID           uint64          `json:"id"`
	Proposer     address.Address `json:"proposer"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	Actions      []Action        `json:"actions"`
	Status       Status          `json:"status"`
	SubmitHeight int64           `json:"submit_height"`
	SubmitTime   int64           `json:"submit_time"`  // unix nanoseconds, block time
	DepositEnd   int64           `json:"deposit_end"`  // unix nanoseconds
	VotingStart  int64           `json:"voting_start"` // unix nanoseconds, 0 before
	VotingEnd    int64           `json:"voting_end"`   // unix nanoseconds, 0 before
	TotalDeposit token.Amount    `json:"total_deposit"`
	Tally        Tally           `json:"tally"`      // when ended
	EndHeight    int64           `json:"end_height"` // the block that ended it
	Outcome      string          `json:"outcome"`    // why it ended so; an action's error
}

// Params are the module's rules.
type Params struct {
	_ struct{} `cbor:",toarray"`
	// MinDeposit starts a proposal's voting period.
	MinDeposit token.Amount `json:"min_deposit"`
	// MinInitialDeposit is the least a proposal may be submitted with.
	MinInitialDeposit token.Amount `json:"min_initial_deposit"`
	// DepositPeriod is how long a proposal may collect deposits.
	DepositPeriod time.Duration `json:"deposit_period"`
	// VotingPeriod is how long votes are taken.
	VotingPeriod time.Duration `json:"voting_period"`
	// Quorum of Tally.Eligible must vote (any option).
	Quorum tokenomics.Permill `json:"quorum"`
	// Threshold of yes+no+veto must be yes for a proposal to pass.
	Threshold tokenomics.Permill `json:"threshold"`
	// VetoThreshold of all votes being veto vetoes a proposal.
	VetoThreshold tokenomics.Permill `json:"veto_threshold"`
}

// DefaultParams: 1,000 PHA to vote on a proposal (100 to submit one), two
// days to collect it, five days of voting; a third must vote, more than
// half of the decided must say yes, a third saying veto burns the
// deposit (Cosmos' defaults, which Phala's council-and-referendum model
// does not map onto a single chamber).
func DefaultParams() Params {
	return Params{
		MinDeposit:        token.PHA(1_000),
		MinInitialDeposit: token.PHA(100),
		DepositPeriod:     2 * 24 * time.Hour,
		VotingPeriod:      5 * 24 * time.Hour,
		Quorum:            334_000,
		Threshold:         500_000,
		VetoThreshold:     334_000,
	}
}

// DevnetParams vote within a minute: 10 PHA deposits, 30 s periods.
func DevnetParams() Params {
	p := DefaultParams()
	p.MinDeposit, p.MinInitialDeposit = token.PHA(10), token.PHA(1)
	p.DepositPeriod, p.VotingPeriod = 30*time.Second, 30*time.Second
	return p
}

// Genesis is the module's genesis section.
type Genesis struct {
	Params Params `json:"params"`
	// UnsafeDevAdmin, when set, may send every Authority method directly,
	// without a proposal: a development chain's shortcut. A production
	// genesis leaves it empty and `phala testnet --production` refuses it.
	UnsafeDevAdmin *address.Address `json:"unsafe_dev_admin,omitempty"`
}

// Limits.
const (
	MaxTitle       = 140
	MaxDescription = 10_000
	MaxActions     = 16
	MaxActionBody  = 64 << 10
	MaxPlanName    = 64
	MaxPlanInfo    = 1_000
	MaxList        = 100
)

// Gas of each transaction. Proposing runs the actions once on a throwaway
// state, so its cost grows with them; execution at the end of the voting
// period is the chain's own work.
const (
	ProposeGas   = 50_000
	DepositGas   = 5_000
	VoteGas      = 5_000
	AuthorityGas = 10_000
)

// Stable error kinds.
var (
	ErrInvalid         = errs.Register(Name, 1, "invalid governance message")
	ErrUnknownProposal = errs.Register(Name, 2, "no such proposal")
	ErrBadAction       = errs.Register(Name, 3, "a proposal's action is refused")
	ErrDepositTooLow   = errs.Register(Name, 4, "deposit below the minimum")
	ErrNotVoting       = errs.Register(Name, 5, "the proposal is not in its voting period")
	ErrNotDepositing   = errs.Register(Name, 6, "the proposal takes no more deposits")
	ErrParams          = errs.Register(Name, 7, "governance params out of range")
	ErrUnauthorized    = errs.Register(Name, 8, "only governance may do this")
	ErrTreasury        = errs.Register(Name, 9, "the treasury cannot pay this")
	ErrUpgrade         = errs.Register(Name, 10, "invalid upgrade plan")
	ErrCorruptState    = errs.Register(Name, 11, "corrupt governance state")
	ErrNoVotingPower   = errs.Register(Name, 12, "the voter holds and delegates no PHA")
)

// ListQuery asks for a page of proposals, newest first, optionally of one
// status.
type ListQuery struct {
	_      struct{} `cbor:",toarray"`
	Status Status   // 0: any
	Before uint64   // 0: from the newest
	Limit  uint32   // 0 or above MaxList: MaxList
}

// ProposalQuery names a proposal.
type ProposalQuery struct {
	_  struct{} `cbor:",toarray"`
	ID uint64
}

// ProposalInfo answers the proposal query: the proposal, and while it is
// voting the tally as it would be counted now.
type ProposalInfo struct {
	_        struct{} `cbor:",toarray"`
	Proposal Proposal `json:"proposal"`
	Current  *Tally   `json:"current,omitempty"`
}

// ProposalList answers the proposals query.
type ProposalList struct {
	_         struct{}   `cbor:",toarray"`
	Proposals []Proposal `json:"proposals"`
	More      bool       `json:"more"`
}

// VoteRecord is one voter's vote and, if counted, its weight.
type VoteRecord struct {
	_      struct{}        `cbor:",toarray"`
	Voter  address.Address `json:"voter"`
	Option Option          `json:"option"`
	Height int64           `json:"height"`
}

// VoteList answers the votes query.
type VoteList struct {
	_     struct{}     `cbor:",toarray"`
	Votes []VoteRecord `json:"votes"`
}

// GovernableModule is one module's governable params, with their current
// values as its params query prints them.
type GovernableModule struct {
	_       struct{}           `cbor:",toarray"`
	Module  string             `json:"module"`
	Method  string             `json:"method"` // "<module>.set_params"
	Params  []module.ParamSpec `json:"params"`
	Current []byte             `json:"current"` // JSON
}

// ParamsInfo answers the params query: governance's own params, whether
// the chain has an unsafe dev admin, and every governable param.
type ParamsInfo struct {
	_              struct{}           `cbor:",toarray"`
	Params         Params             `json:"params"`
	UnsafeDevAdmin *address.Address   `json:"unsafe_dev_admin,omitempty"`
	Governable     []GovernableModule `json:"governable"`
}

// UpgradeInfo answers the upgrade query.
type UpgradeInfo struct {
	_       struct{} `cbor:",toarray"`
	Planned *Plan    `json:"planned,omitempty"`
}

// Validate checks params against their ranges.
func (p Params) Validate() error {
	switch {
	case p.MinDeposit.IsZero():
		return ErrParams.Wrapf("min_deposit must be positive")
	case p.MinInitialDeposit.Cmp(p.MinDeposit) > 0:
		return ErrParams.Wrapf("min_initial_deposit must be at most min_deposit")
	case p.DepositPeriod < time.Second || p.DepositPeriod > 365*24*time.Hour:
		return ErrParams.Wrapf("deposit_period must be in [1s, 1 year]")
	case p.VotingPeriod < time.Second || p.VotingPeriod > 365*24*time.Hour:
		return ErrParams.Wrapf("voting_period must be in [1s, 1 year]")
	case p.Quorum > tokenomics.Million || p.Quorum == 0:
		return ErrParams.Wrapf("quorum must be in (0, 100%%]")
	case p.Threshold > tokenomics.Million || p.Threshold < tokenomics.Million/2:
		return ErrParams.Wrapf("threshold must be in [50%%, 100%%]")
	case p.VetoThreshold > tokenomics.Million || p.VetoThreshold == 0:
		return ErrParams.Wrapf("veto_threshold must be in (0, 100%%]")
	}
	return nil
}
