// Package poolsapi is the stake pools module's wire form: transaction
// bodies with strict decoders, stored records, query names and answers,
// params and genesis, error kinds and gas. Clients import it; the handlers
// live in chain/pools.
//
// A pool gathers delegated PHA and stakes it in the computing sessions of
// the workers its owner operates. Delegators hold shares: claims on the
// pool's stake (what they delegated, less what slashing took). Rewards the
// pool's workers earn are kept apart from stake: the owner's commission
// first, the rest per share, claimable at any time (withdraw). Stake locked
// in sessions cannot be paid out at once: undelegated shares wait in a
// queue, served first-come as stake comes free; a queue head older than
// the grace period that free and releasing stake cannot cover stops the
// pool's workers, so no delegator waits longer than grace + cool-down.
package poolsapi

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics"
)

// Name is the module's name: genesis section, method and query prefix,
// error codespace.
const Name = "pools"

// Transactions.
const (
	MethodCreate        = "pools.create"         // body Create; the sender owns the pool
	MethodAddWorker     = "pools.add_worker"     // body WorkerBody; owner only, the worker's operator
	MethodRemoveWorker  = "pools.remove_worker"  // body WorkerBody; owner only, worker not in a session
	MethodSetCommission = "pools.set_commission" // body SetCommission; owner only
	MethodSetCapacity   = "pools.set_capacity"   // body SetCapacity; owner only
	MethodDelegate      = "pools.delegate"       // body Delegate
	MethodUndelegate    = "pools.undelegate"     // body Undelegate
	MethodWithdraw      = "pools.withdraw"       // body Withdraw: claim rewards
	MethodSetParams     = "pools.set_params"     // body module.ParamChange; the chain's authority only (chain/authority)
)

// Event types.
const (
	EventCreated       = "pool_created"
	EventWorkerAdded   = "pool_worker_added"
	EventWorkerRemoved = "pool_worker_removed"
	EventCommission    = "pool_commission"
	EventCapacity      = "pool_capacity"
	EventDelegated     = "pool_delegated"
	EventUndelegated   = "pool_undelegated"   // shares queued for withdrawal
	EventWithdrawal    = "pool_withdrawal"    // queued shares paid out
	EventRewardsClaim  = "pool_rewards_claim" // rewards withdrawn
	EventReward        = "pool_reward"        // a worker's reward split
	EventStakeReturned = "pool_stake_returned"
	EventForceStop     = "pool_force_stop"
	EventParams        = "pools_params" // set_params: attribute "changed"
)

// ID numbers pools from 1.
type ID uint64

func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// ParseID reads a pool number.
func ParseID(s string) (ID, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, ErrInvalid.Wrapf("pool %q: want a number from 1", s)
	}
	return ID(n), nil
}

// Account is the keyless account of pool id: it holds the pool's free
// stake and its unclaimed rewards.
func Account(id ID) address.Address { return address.Module("pools/" + id.String()) }

// Create is the body of MethodCreate. Capacity zero means no cap.
type Create struct {
	_          struct{} `cbor:",toarray"`
	Commission tokenomics.Permill
	Capacity   token.Amount
}

// WorkerBody is the body of MethodAddWorker and MethodRemoveWorker: a
// registered worker's identity key.
type WorkerBody struct {
	_      struct{} `cbor:",toarray"`
	Pool   ID
	Worker []byte
}

// SetCommission is the body of MethodSetCommission.
type SetCommission struct {
	_          struct{} `cbor:",toarray"`
	Pool       ID
	Commission tokenomics.Permill
}

// SetCapacity is the body of MethodSetCapacity; zero lifts the cap.
type SetCapacity struct {
	_        struct{} `cbor:",toarray"`
	Pool     ID
	Capacity token.Amount
}

// Delegate is the body of MethodDelegate: Amount moves from the sender to
// the pool for shares.
type Delegate struct {
	_      struct{} `cbor:",toarray"`
	Pool   ID
	Amount token.Amount
}

// Undelegate is the body of MethodUndelegate: Shares of the sender's go
// to the withdrawal queue, paid out at their value when served.
type Undelegate struct {
	_      struct{} `cbor:",toarray"`
	Pool   ID
	Shares token.Amount
}

// Withdraw is the body of MethodWithdraw: the sender's rewards (and, for
// the owner, the commission) are paid out; Amount zero means all.
type Withdraw struct {
	_      struct{} `cbor:",toarray"`
	Pool   ID
	Amount token.Amount
}

// Pool is a stake pool's record. The pool's account holds Free + Rewards
// + OwnerRewards; Locked is held by the compute module in sessions.
type Pool struct {
	_          struct{}           `cbor:",toarray"`
	ID         ID                 `json:"id"`
	Owner      address.Address    `json:"owner"`
	Commission tokenomics.Permill `json:"commission"`
	Capacity   token.Amount       `json:"capacity"` // zero: no cap
	// Shares are all delegators' shares, queued ones included; Stake is
	// what backs them: Free + Locked.
	Shares token.Amount `json:"shares"`
	Stake  token.Amount `json:"stake"`
	Free   token.Amount `json:"free"`
	Locked token.Amount `json:"locked"`
	// Releasing is the part of Locked in sessions cooling down: it comes
	// back to Free when their cool-down ends.
	Releasing token.Amount `json:"releasing"`
	// RewardPerShare accumulates rewards per share in 10^-24 base units
	// (tokenomics.RewardScale); Carry is what the division left over,
	// added to the next reward.
	RewardPerShare Scaled `json:"reward_per_share"`
	Carry          Scaled `json:"carry"`
	// Rewards are the delegators' rewards in the pool's account, not yet
	// withdrawn; OwnerRewards the owner's commission, likewise.
	Rewards      token.Amount `json:"rewards"`
	OwnerRewards token.Amount `json:"owner_rewards"`
	TotalRewards token.Amount `json:"total_rewards"` // all rewards ever received
	Workers      uint32       `json:"workers"`
	// The withdrawal queue holds entries Head..Tail-1; Queued is the sum
	// of their shares.
	Head   uint64       `json:"queue_head"`
	Tail   uint64       `json:"queue_tail"`
	Queued token.Amount `json:"queued"`
}

// Delegation is one delegator's position in one pool.
type Delegation struct {
	_      struct{}     `cbor:",toarray"`
	Shares token.Amount `json:"shares"` // queued ones included
	Queued token.Amount `json:"queued"` // shares waiting in the queue
	// Paid is Shares·RewardPerShare when the position last changed;
	// Pending the rewards earned before, scaled. Both in 10^-24 units.
	Paid    Scaled `json:"paid"`
	Pending Scaled `json:"pending"`
}

// QueueEntry is one undelegation waiting for free stake.
type QueueEntry struct {
	_         struct{}        `cbor:",toarray"`
	Delegator address.Address `json:"delegator"`
	Shares    token.Amount    `json:"shares"`
	Since     int64           `json:"since"` // block time (unix ns) it was queued
}

// PoolWorker is a worker's membership of a pool and the stake the pool
// has in its session.
type PoolWorker struct {
	_      struct{} `cbor:",toarray"`
	Pool   ID       `json:"pool"`
	Worker HexKey   `json:"worker"`
	// Stake is locked in the worker's session (zero: none); Cooling says
	// the session stopped and the stake comes back after its cool-down.
	Stake   token.Amount `json:"stake"`
	Cooling bool         `json:"cooling"`
}

// Params are the module's rules.
type Params struct {
	_ struct{} `cbor:",toarray"`
	// MaxWorkers bounds a pool's workers.
	MaxWorkers uint32 `json:"max_workers"`
	// MinDelegation is the least a delegation may bring.
	MinDelegation token.Amount `json:"min_delegation"`
	// WithdrawGrace is how long the head of a withdrawal queue may wait
	// before the pool's workers are stopped to free stake.
	WithdrawGrace time.Duration `json:"withdraw_grace"`
	// MaxServe bounds the queue entries one transaction or block serves,
	// so that a transaction's cost stays bounded; the rest wait for the
	// next block.
	MaxServe uint32 `json:"max_serve"`
}

// DefaultParams are Phala's: 200 workers a pool, 0.01 PHA at least,
// 7 days of grace.
func DefaultParams() Params {
	return Params{MaxWorkers: 200, MinDelegation: token.FromUint64(10_000_000_000), WithdrawGrace: 7 * 24 * time.Hour, MaxServe: 32}
}

// Validate checks params against their ranges.
func (p Params) Validate() error {
	switch {
	case p.MaxWorkers == 0 || p.MaxWorkers > 10_000:
		return ErrParams.Wrapf("max_workers must be in [1, 10000]")
	case p.MinDelegation.IsZero():
		return ErrParams.Wrapf("min_delegation must be positive")
	case p.WithdrawGrace < time.Minute || p.WithdrawGrace > 365*24*time.Hour:
		return ErrParams.Wrapf("withdraw_grace must be in [1 minute, 1 year]")
	case p.MaxServe == 0 || p.MaxServe > 1_000:
		return ErrParams.Wrapf("max_serve must be in [1, 1000]")
	}
	return nil
}

// Genesis is the module's genesis section.
type Genesis struct {
	Params Params `json:"params"`
}

// DefaultGenesis has the default params.
func DefaultGenesis() Genesis { return Genesis{Params: DefaultParams()} }

// Gas of each transaction. Delegating and undelegating serve the queue, up
// to MaxServe entries.
const (
	AdminGas    = 5_000
	DelegateGas = 20_000
	WithdrawGas = 5_000
)

// Query paths.
const (
	QueryParams     = "pools/params"      // → Params
	QueryPool       = "pools/pool"        // data: CBOR ID → PoolInfo
	QueryPools      = "pools/pools"       // data: CBOR ListQuery (or none) → PoolList
	QueryPosition   = "pools/position"    // data: CBOR PositionQuery → Position
	QueryPositions  = "pools/positions"   // data: address (20 bytes) → []Position
	QueryQueue      = "pools/queue"       // data: CBOR ID → []QueueEntry
	QueryWorkerPool = "pools/worker_pool" // data: worker identity key → PoolWorker
)

// ListQuery is the data of QueryPools: pools after After (exclusive),
// at most Limit (0 or above MaxList: MaxList).
type ListQuery struct {
	_     struct{} `cbor:",toarray"`
	After ID
	Limit uint32
}

// MaxList bounds a page of pools.
const MaxList = 100

// PoolList answers QueryPools; More says a next page exists.
type PoolList struct {
	_     struct{}   `cbor:",toarray"`
	Pools []PoolInfo `json:"pools"`
	More  bool       `json:"more"`
}

// PoolInfo answers QueryPool: the record, its account's balance, its
// workers and the price of a share.
type PoolInfo struct {
	_       struct{}        `cbor:",toarray"`
	Pool    Pool            `json:"pool"`
	Account address.Address `json:"account"`
	Balance token.Amount    `json:"balance"`
	Workers []HexKey        `json:"workers"`
}

// PositionQuery is the data of QueryPosition.
type PositionQuery struct {
	_         struct{} `cbor:",toarray"`
	Pool      ID
	Delegator address.Address
}

// Position answers QueryPosition: a delegator's shares, what they are
// worth now, and rewards claimable now (for the owner, Commission too).
type Position struct {
	_          struct{}        `cbor:",toarray"`
	Pool       ID              `json:"pool"`
	Delegator  address.Address `json:"delegator"`
	Shares     token.Amount    `json:"shares"`
	Queued     token.Amount    `json:"queued"`
	Value      token.Amount    `json:"value"`
	Rewards    token.Amount    `json:"pending_rewards"`
	Commission token.Amount    `json:"owner_commission"`
}

// HexKey is a key shown as hex in JSON.
type HexKey []byte

// MarshalText writes hex.
func (k HexKey) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(k)), nil }

// UnmarshalText reads hex.
func (k *HexKey) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("not hex: %w", err)
	}
	*k = v
	return nil
}

// Scaled is a non-negative integer of any size in 10^-24 base units,
// stored as its minimal big-endian bytes and shown in decimal.
type Scaled struct{ b []byte }

// NewScaled holds n (n ≥ 0).
func NewScaled(n *big.Int) Scaled { return Scaled{b: n.Bytes()} }

// Int is the number.
func (s Scaled) Int() *big.Int { return new(big.Int).SetBytes(s.b) }

// IsZero reports whether s is zero.
func (s Scaled) IsZero() bool { return len(s.b) == 0 }

// String is the decimal.
func (s Scaled) String() string { return s.Int().String() }

// MarshalCBOR writes a byte string of the minimal bytes (zero is empty),
// its head written here (as the library would: one byte below 24 bytes,
// else 0x58 and the length), since pools are encoded at every reward.
func (s Scaled) MarshalCBOR() ([]byte, error) {
	if len(s.b) > maxScaled {
		return nil, fmt.Errorf("poolsapi: scaled number of %d bytes", len(s.b))
	}
	head := []byte{0x40 | byte(len(s.b))}
	if len(s.b) >= 24 {
		head = []byte{0x58, byte(len(s.b))}
	}
	return append(head, s.b...), nil
}

// maxScaled bounds a scaled number: 512 bits is far beyond any reward
// per share the supply can make.
const maxScaled = 64

// UnmarshalCBOR reads minimal bytes only, so each number has one encoding.
func (s *Scaled) UnmarshalCBOR(data []byte) error {
	var b []byte
	switch {
	case len(data) > 0 && data[0]&0xe0 == 0x40 && data[0]&0x1f < 24 && len(data) == 1+int(data[0]&0x1f):
		b = data[1:]
	case len(data) > 1 && data[0] == 0x58 && data[1] >= 24 && len(data) == 2+int(data[1]):
		b = data[2:]
	default:
		return fmt.Errorf("poolsapi: a scaled number is a byte string of at most %d bytes in its shortest form", maxScaled)
	}
	if len(b) > 0 && b[0] == 0 {
		return fmt.Errorf("poolsapi: scaled number with a leading zero byte")
	}
	if len(b) > maxScaled {
		return fmt.Errorf("poolsapi: scaled number of %d bytes", len(b))
	}
	s.b = append([]byte(nil), b...)
	return nil
}

// MarshalText writes the decimal.
func (s Scaled) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a decimal.
func (s *Scaled) UnmarshalText(b []byte) error {
	n, ok := new(big.Int).SetString(string(b), 10)
	if !ok || n.Sign() < 0 {
		return fmt.Errorf("poolsapi: %q is not a non-negative integer", b)
	}
	*s = NewScaled(n)
	return nil
}

// Stable error kinds: codes only ever get added.
var (
	ErrInvalid         = errs.Register(Name, 1, "invalid pools message")
	ErrUnknownPool     = errs.Register(Name, 2, "no such pool")
	ErrNotOwner        = errs.Register(Name, 3, "only the pool's owner may do this")
	ErrNotOperator     = errs.Register(Name, 4, "the worker is operated by another account")
	ErrUnknownWorker   = errs.Register(Name, 5, "no such worker")
	ErrWorkerInPool    = errs.Register(Name, 6, "the worker is already in a pool")
	ErrWorkerNotInPool = errs.Register(Name, 7, "the worker is not in this pool")
	ErrTooManyWorkers  = errs.Register(Name, 8, "the pool has as many workers as allowed")
	ErrWorkerBusy      = errs.Register(Name, 9, "the worker is in a session")
	ErrCommission      = errs.Register(Name, 10, "commission above 100%")
	ErrCapacity        = errs.Register(Name, 11, "beyond the pool's capacity")
	ErrBelowMin        = errs.Register(Name, 12, "delegation below the minimum")
	ErrBeyondShares    = errs.Register(Name, 13, "more shares than the delegator holds")
	ErrBeyondRewards   = errs.Register(Name, 14, "more than the pending rewards")
	ErrWorthless       = errs.Register(Name, 15, "the pool's shares are worth nothing")
	ErrNoStake         = errs.Register(Name, 16, "not enough free stake in the pool")
	ErrParams          = errs.Register(Name, 17, "parameter out of range")
	ErrCorruptState    = errs.Register(Name, 18, "corrupt pools state")
	ErrUnauthorized    = errs.Register(Name, 19, "only the chain's authority may do this")
)
