// Package computeapi is the compute module's wire form: workers'
// computing sessions and their states, the performance score workers
// report, the per-block heartbeat challenge and its rule, the answers that
// ride in registry heartbeats, the gatekeepers' settlements, transaction
// bodies, the messages the chain publishes for enclaves, queries and their
// answers, params, error kinds and gas. Clients, relays and enclaves import
// it; the handlers live in chain/compute.
//
// The economy's formulas (minimum stake, initial value, share, growth,
// decay, emission) live in package tokenomics; this package only carries
// their inputs and results.
package computeapi

import (
	"encoding/hex"
	"fmt"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "compute"

// Transactions.
const (
	// MethodStart starts a worker computing with a stake taken from its
	// stake pool (body Start). The stake pools module says whether the
	// sender may (the pool's owner) and where the stake comes from.
	MethodStart = "compute.start"
	// MethodStop stops a worker's session (body Stop): it cools down for
	// Params.Economy.CoolDown, then its stake goes back to the pool.
	MethodStop = "compute.stop"
	// MethodSetParams changes governable params (body
	// module.ParamChange; the chain's authority only: chain/authority).
	// settle_every never changes: periods are numbered by it.
	MethodSetParams = "compute.set_params"
)

// Egress topics: messages enclaves send to the chain.
const (
	// TopicBenchmark: a worker reports its performance score (payload
	// Benchmark). Per sender: every worker's report counts.
	TopicBenchmark = "compute.benchmark"
	// TopicSettlement: a gatekeeper settles a period (payload
	// Settlement). Every gatekeeper sends the same bytes; the chain
	// counts identical copies once.
	TopicSettlement = "compute.settlement"
)

// Challenge answers are not a topic of their own: they ride in the
// registry's heartbeat (registryapi.Heartbeat.Answers), which the compute
// module follows.

// Topics the chain publishes for enclaves, in chain order.
const (
	// TopicSession: a session changed (payload SessionEvent).
	TopicSession = "compute.session"
	// TopicChallenge: the block's heartbeat challenge (payload
	// Challenge), published at the end of every block while a session
	// computes.
	TopicChallenge = "compute.challenge"
	// TopicParams: the params changed (payload Params).
	TopicParams = "compute.params"
)

// Queries.
const (
	QueryParams     = "compute/params"      // → Params
	QueryWorker     = "compute/worker"      // data: identity key → WorkerInfo
	QuerySession    = "compute/session"     // data: session id (8 bytes BE) → Session
	QuerySessions   = "compute/sessions"    // data: empty, or a pool id (8 bytes BE) → []Session not yet released
	QueryRewardPool = "compute/reward_pool" // → RewardPoolInfo
	QueryEmission   = "compute/emission"    // → EmissionInfo
)

// Events of the module's transactions and blocks.
const (
	EventBenchmark    = "compute_benchmark"
	EventStarted      = "compute_started"
	EventStopped      = "compute_stopped"
	EventUnresponsive = "compute_unresponsive"
	EventRecovered    = "compute_recovered"
	EventReleased     = "compute_released"
	EventSlashed      = "compute_slashed"
	EventAnswer       = "compute_answer"
	EventSettlement   = "compute_settlement"
	EventParams       = "compute_params"
)

// State is where a worker stands in the economy.
type State uint8

// States. A worker is Ready once it has a score and no session holds it;
// Computing and Unresponsive are both "in a session" (challenged,
// settled); CoolingDown keeps the stake locked until the cool-down ends,
// then the session is released and the worker is Ready again.
const (
	StateReady        State = 0
	StateComputing    State = 1
	StateUnresponsive State = 2
	StateCoolingDown  State = 3
)

func (s State) String() string {
	switch s {
	case StateReady:
		return "ready"
	case StateComputing:
		return "computing"
	case StateUnresponsive:
		return "unresponsive"
	case StateCoolingDown:
		return "cooling_down"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText writes the state's name, for JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// InSession reports whether the state is Computing or Unresponsive: the
// session is challenged and settled.
func (s State) InSession() bool { return s == StateComputing || s == StateUnresponsive }

// Worker is the module's record of a registered worker.
type Worker struct {
	_        struct{} `cbor:",toarray"`
	Identity []byte   `json:"identity"`
	// Score is the newest performance score the worker reported; a
	// session keeps the score it started with.
	Score       uint64 `json:"score"`
	ScoreHeight int64  `json:"score_height"`
	// Session is the worker's current session, or its last one once
	// released (0: it never computed).
	Session uint64 `json:"session"`
}

// Session is one computing session of a worker: from compute.start to the
// release of its stake.
type Session struct {
	_      struct{} `cbor:",toarray"`
	ID     uint64   `json:"id"`
	Worker []byte   `json:"worker"`
	Pool   uint64   `json:"pool"`
	// Account is where the stake came from; rewards and the returned
	// stake go back to it (the pool's account).
	Account    address.Address       `json:"account"`
	State      State                 `json:"state"`
	Stake      token.Amount          `json:"stake"`
	Score      uint64                `json:"score"`      // P, as reported when the session started
	Confidence tokenomics.Confidence `json:"confidence"` // from the worker's attestation
	InitialV   fixed.Q               `json:"initial_v"`
	V          fixed.Q               `json:"v"` // as of the last settlement
	// Times are block times in unix nanoseconds; heights are blocks.
	StartedAt    int64 `json:"started_at"`
	StartHeight  int64 `json:"start_height"`
	StoppedAt    int64 `json:"stopped_at,omitempty"`
	StopHeight   int64 `json:"stop_height,omitempty"`
	CoolDownEnds int64 `json:"cool_down_ends,omitempty"`
	// LastChallenge is the height of the newest challenge the worker
	// answered, LastAnswer the block that carried the answer.
	LastChallenge int64        `json:"last_challenge,omitempty"`
	LastAnswer    int64        `json:"last_answer,omitempty"`
	Rewards       token.Amount `json:"rewards"` // settled, before the treasury's part
	Slashed       token.Amount `json:"slashed"`
	// SettledPeriod is the last period that settled the session.
	SettledPeriod uint64 `json:"settled_period,omitempty"`
	Released      bool   `json:"released,omitempty"`
	Reason        string `json:"reason,omitempty"` // why it stopped
}

// Owes reports whether the session must answer a challenge made at the
// end of block h: it was in a session then (started in an earlier block,
// not stopped by the end of h). Gatekeepers and the chain apply the same
// rule.
func (s Session) Owes(h int64) bool {
	return s.StartHeight < h && (s.StopHeight == 0 || h < s.StopHeight)
}

// Benchmark is the payload of TopicBenchmark.
type Benchmark struct {
	_ struct{} `cbor:",toarray"`
	// Score is the performance score P the enclave measured (1..MaxScore).
	Score uint64
}

// MaxScore bounds a reported score.
const MaxScore = 1_000_000

// Answer is a worker's answer to one challenge, carried in its registry
// heartbeat.
type Answer struct {
	_ struct{} `cbor:",toarray"`
	// Session is the worker's session (answers for an older one are
	// refused).
	Session uint64 `json:"session"`
	// Challenge is the height of the block whose challenge this answers.
	Challenge int64 `json:"challenge"`
}

// MaxAnswers bounds the answers one heartbeat carries.
const MaxAnswers = 64

// Settlement is the payload of TopicSettlement: gatekeepers settle each
// period of Params.SettleEvery block time, in parts of at most
// MaxSettlementWorkers sessions (a transaction is small), in order.
type Settlement struct {
	_ struct{} `cbor:",toarray"`
	// Period counts from 1: period n covers block times [start +
	// (n−1)·SettleEvery, start + n·SettleEvery) of the economy.
	Period uint64
	Part   uint32 // from 0
	Parts  uint32 // at least 1
	// Workers are ordered by session id, ascending through the parts.
	Workers []WorkerSettlement
}

// WorkerSettlement is one session's result for a period.
type WorkerSettlement struct {
	_       struct{} `cbor:",toarray"`
	Session uint64
	// State is Computing or Unresponsive at the period's end; the chain
	// moves the session there if it is still in a session.
	State State
	// V is the session's value at the period's end.
	V fixed.Q
	// Reward is the session's part of the period's budget: share /
	// Σshare of the responsive sessions. Zero while unresponsive.
	// Params.Economy.TreasuryShare of it goes to the treasury, the rest
	// to the session's pool.
	Reward token.Amount
}

// MaxSettlementWorkers bounds the sessions of one settlement part, so a
// part fits a transaction.
const MaxSettlementWorkers = 1000

// MaxSettlementParts bounds a period's parts.
const MaxSettlementParts = 10_000

// Start is the body of MethodStart.
type Start struct {
	_      struct{}     `cbor:",toarray"`
	Worker []byte       // identity key
	Stake  token.Amount // at least tokenomics.MinStake of its score
}

// Stop is the body of MethodStop.
type Stop struct {
	_      struct{} `cbor:",toarray"`
	Worker []byte
}

// SessionEvent is published (TopicSession) on every change of a session.
type SessionEvent struct {
	_       struct{} `cbor:",toarray"`
	Kind    string   // one of the Kind constants
	Session Session
}

// Session event kinds.
const (
	KindStarted      = "started"
	KindUnresponsive = "unresponsive"
	KindRecovered    = "recovered"
	KindStopped      = "stopped"
	KindSlashed      = "slashed"
	KindReleased     = "released"
)

// Challenge is published (TopicChallenge) at the end of every block while
// a session computes. A session that Owes the block's challenge and whose
// worker is Challenged by it must answer in a block at most
// Params.AnswerWindow of block time later.
type Challenge struct {
	_         struct{} `cbor:",toarray"`
	Height    int64
	Time      int64 // block time, unix nanoseconds
	Seed      [32]byte
	Target    [32]byte
	Computing uint64 // sessions computing or unresponsive at the block's end
}

// WorkerInfo answers QueryWorker.
type WorkerInfo struct {
	_       struct{} `cbor:",toarray"`
	Worker  Worker   `json:"worker"`
	State   State    `json:"state"`
	Session *Session `json:"session,omitempty"` // the current or last session
}

// RewardPoolInfo answers QueryRewardPool.
type RewardPoolInfo struct {
	_ struct{} `cbor:",toarray"`
	// Balance is what the reward pool holds now.
	Balance token.Amount `json:"balance"`
	// Emitted is what the schedule has made available up to the block's
	// time; Paid and ToTreasury what settlements took from the pool.
	Emitted    token.Amount `json:"emitted"`
	Paid       token.Amount `json:"paid"`
	ToTreasury token.Amount `json:"to_treasury"`
	// Slashed is stake sent to the treasury by slashing.
	Slashed token.Amount `json:"slashed"`
	// Period is the last period settled (possibly in part), Next the one
	// after it and NextEnds when it may be settled (unix nanoseconds).
	Period    uint64 `json:"period"`
	NextEnds  int64  `json:"next_ends"`
	Computing uint64 `json:"computing"`
}

// EmissionInfo answers QueryEmission: the schedule in time.
type EmissionInfo struct {
	_           struct{}     `cbor:",toarray"`
	Start       int64        `json:"start"` // the economy's start, unix nanoseconds
	Now         int64        `json:"now"`
	Total       token.Amount `json:"total"`   // over the economy's whole life
	Emitted     token.Amount `json:"emitted"` // up to Now
	PerDayNow   token.Amount `json:"per_day_now"`
	NextDecayAt int64        `json:"next_decay_at"`
	Spans       []Span       `json:"spans"` // the first emission spans
}

// Span is one emission period of the schedule.
type Span struct {
	_      struct{}     `cbor:",toarray"`
	From   int64        `json:"from"` // unix nanoseconds
	To     int64        `json:"to"`
	Budget token.Amount `json:"budget"`
}

// EmissionSpans is how many spans QueryEmission lists.
const EmissionSpans = 12

// Identity is a worker identity key as hex, for logs and events.
func Identity(id []byte) string { return hex.EncodeToString(id) }

// Stable error kinds.
var (
	ErrInvalid        = errs.Register(Name, 1, "invalid compute message")
	ErrUnknownWorker  = errs.Register(Name, 2, "no such active worker")
	ErrNoScore        = errs.Register(Name, 3, "worker has no acceptable performance score")
	ErrStakeTooLow    = errs.Register(Name, 4, "stake below the minimum for the worker's score")
	ErrTooMuchStake   = errs.Register(Name, 5, "stake gives a value above v_max")
	ErrBusy           = errs.Register(Name, 6, "worker is already computing or cooling down")
	ErrNotComputing   = errs.Register(Name, 7, "worker is not computing")
	ErrNotGatekeeper  = errs.Register(Name, 8, "only an active gatekeeper may settle")
	ErrStalePeriod    = errs.Register(Name, 9, "period or part already settled")
	ErrFuturePeriod   = errs.Register(Name, 10, "period has not ended")
	ErrBadPart        = errs.Register(Name, 11, "settlement part out of order")
	ErrOverBudget     = errs.Register(Name, 12, "settlement pays more than the period's budget")
	ErrUnknownSession = errs.Register(Name, 13, "no such session")
	ErrLateAnswer     = errs.Register(Name, 14, "challenge answered after the window")
	ErrNotChallenged  = errs.Register(Name, 15, "no challenge owed at that height")
	ErrParams         = errs.Register(Name, 16, "parameter out of range")
	ErrUnauthorized   = errs.Register(Name, 17, "not allowed")
	ErrCorruptState   = errs.Register(Name, 18, "corrupt compute state")
	ErrNoPools        = errs.Register(Name, 19, "no stake pools module")
	ErrNotWorker      = errs.Register(Name, 20, "only a worker may do this")
)

// Gas of each method.
const (
	StartGas     = 50_000
	StopGas      = 20_000
	SetParamsGas = 10_000
)

// Module accounts.
var (
	// StakeAccount holds the stake of every session until it is released.
	StakeAccount = address.Module("compute/stake")
)
