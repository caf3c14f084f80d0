package computeapi

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
	"github.com/phala-go/phala/tokenomics/fixed"
)

// Stored items of the compute module. They live in the wire form, not
// beside the handlers, so a client proving a session computes the key
// without linking the handlers.
var (
	ParamsKey      = state.NewKeyFormat(state.ModuleCompute, 0x01) // → Params
	WorkerKey      = state.NewKeyFormat(state.ModuleCompute, 0x02) // identity key → Worker
	SessionKey     = state.NewKeyFormat(state.ModuleCompute, 0x03) // session id (8 bytes BE) → Session
	NextSessionKey = state.NewKeyFormat(state.ModuleCompute, 0x04) // → the last session id (8 bytes BE)
	CoolDownKey    = state.NewKeyFormat(state.ModuleCompute, 0x05) // end (unix ns, 8 bytes BE) ‖ session id → nothing
	ChallengeKey   = state.NewKeyFormat(state.ModuleCompute, 0x06) // height (8 bytes BE) → Challenge, kept for the answer window
	ProgressKey    = state.NewKeyFormat(state.ModuleCompute, 0x07) // → Progress of settlements
	StartKey       = state.NewKeyFormat(state.ModuleCompute, 0x08) // → the economy's start (unix ns, 8 bytes BE)
	ComputingKey   = state.NewKeyFormat(state.ModuleCompute, 0x09) // → sessions computing or unresponsive (8 bytes BE)
	PoolSessionKey = state.NewKeyFormat(state.ModuleCompute, 0x0a) // pool id ‖ session id → nothing, while not released
	TotalsKey      = state.NewKeyFormat(state.ModuleCompute, 0x0b) // → Totals
	LastBlockKey   = state.NewKeyFormat(state.ModuleCompute, 0x0c) // → the last challenged block's time (unix ns, 8 bytes BE)
	StandingKey    = state.NewKeyFormat(state.ModuleCompute, 0x0d) // session id (8 bytes BE) → Standing
)

// Standing is what a settlement reads and writes of a session, kept apart
// from the session's record (SessionKey, where V, Rewards and
// SettledPeriod stay zero) so that settling 10,000 sessions touches small
// records: the state, where rewards go, the times that say whether it
// computed in a period, and its settled value and rewards. State,
// StoppedAt, Pool, Account and StartedAt are the session's own, copied
// whenever it changes.
type Standing struct {
	_             struct{} `cbor:",toarray"`
	State         State
	Pool          uint64
	Account       address.Address
	StartedAt     int64
	StoppedAt     int64
	V             fixed.Q
	Rewards       token.Amount
	SettledPeriod uint64
}

// StandingOf is the standing part of a session.
func StandingOf(s Session) Standing {
	return Standing{State: s.State, Pool: s.Pool, Account: s.Account, StartedAt: s.StartedAt, StoppedAt: s.StoppedAt, V: s.V, Rewards: s.Rewards, SettledPeriod: s.SettledPeriod}
}

// With is the session with its standing's settled figures.
func (s Session) With(st Standing) Session {
	s.V, s.Rewards, s.SettledPeriod = st.V, st.Rewards, st.SettledPeriod
	return s
}

// StandingKeyOf is the state key of a session's standing.
func StandingKeyOf(id uint64) []byte { return StandingKey.Key(u64(id)) }

// Progress is where settlements stand: the newest period settled, in
// whole or in part.
type Progress struct {
	_      struct{} `cbor:",toarray"`
	Period uint64
	Parts  uint32
	Next   uint32 // the next part expected; Parts when the period is complete
	// LastSession is the highest session id settled in this period:
	// the next part's sessions must come after it.
	LastSession uint64
	Budget      token.Amount // the period's emission
	Paid        token.Amount // the rewards settled so far in the period
}

// Totals are what settlements and slashing moved over the chain's life.
type Totals struct {
	_          struct{}     `cbor:",toarray"`
	Paid       token.Amount // to stake pools
	ToTreasury token.Amount // the treasury's part of rewards
	Slashed    token.Amount // stake sent to the treasury
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// WorkerKeyOf is the state key of a worker's record.
func WorkerKeyOf(identity []byte) []byte { return WorkerKey.Key(identity) }

// SessionKeyOf is the state key of a session.
func SessionKeyOf(id uint64) []byte { return SessionKey.Key(u64(id)) }

// CoolDownKeyOf orders sessions cooling down by the end of their cool-down.
func CoolDownKeyOf(end int64, id uint64) []byte { return CoolDownKey.Key(u64(uint64(end)), u64(id)) }

// ChallengeKeyOf is the state key of a block's challenge.
func ChallengeKeyOf(height int64) []byte { return ChallengeKey.Key(u64(uint64(height))) }

// PoolSessionKeyOf indexes a pool's sessions.
func PoolSessionKeyOf(pool, id uint64) []byte { return PoolSessionKey.Key(u64(pool), u64(id)) }

// PoolSessionsPrefix is the prefix of a pool's sessions in the index.
func PoolSessionsPrefix(pool uint64) []byte { return PoolSessionKey.Key(u64(pool)) }

// SessionIDBytes is the query data that names a session or a pool.
func SessionIDBytes(id uint64) []byte { return u64(id) }
