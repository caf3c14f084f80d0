package rewards

import (
	"cmp"
	"slices"

	"github.com/phala-go/phala/chain/compute/computeapi"
)

// State is the module's checkpointed state.
type State struct {
	_      struct{} `cbor:",toarray"`
	Params computeapi.Params
	// Start is the economy's start (block time, unix ns): the first
	// session's start, where settlement periods count from; 0 before.
	Start int64
	// Settled is the last period accounted for (settled, or passed with
	// no session to settle).
	Settled uint64
	// Accounts are the sessions a gatekeeper accounts for, by session id:
	// those in session and those stopped in the period being accounted.
	Accounts []Account
	// Due are the challenges sessions owe, by deadline (block time, unix
	// ns), oldest first; an answered one is skipped when it comes due.
	Due []Due
	// Mine is a worker's own session (zero: none).
	Mine Mine
	// Answers are a worker's owed answers its registry heartbeat has not
	// carried yet, in challenge order.
	Answers []computeapi.Answer
	// Benchmarked: a worker reported its score since it last registered.
	Benchmarked bool
}

// Due is a challenge a session owes, with its deadline.
type Due struct {
	_        struct{} `cbor:",toarray"`
	Deadline int64
	Session  uint64
	Height   int64
}

// Mine is the worker's own session: what it needs to know which
// challenges it owes.
type Mine struct {
	_           struct{} `cbor:",toarray"`
	Session     uint64
	StartHeight int64
	StopHeight  int64
}

func (m Mine) owes(h int64) bool {
	return m.Session != 0 && computeapi.Session{StartHeight: m.StartHeight, StopHeight: m.StopHeight}.Owes(h)
}

// account returns the account of a session, or nil.
func (s *State) account(session uint64) *Account {
	i, ok := slices.BinarySearchFunc(s.Accounts, session, func(a Account, id uint64) int { return cmp.Compare(a.Session, id) })
	if !ok {
		return nil
	}
	return &s.Accounts[i]
}

// addAccount inserts an account, keeping them sorted; a session already
// there is left alone.
func (s *State) addAccount(a Account) {
	i, ok := slices.BinarySearchFunc(s.Accounts, a.Session, func(a Account, id uint64) int { return cmp.Compare(a.Session, id) })
	if !ok {
		s.Accounts = slices.Insert(s.Accounts, i, a)
	}
}

// removeAccount drops a session's account, if any.
func (s *State) removeAccount(session uint64) {
	i, ok := slices.BinarySearchFunc(s.Accounts, session, func(a Account, id uint64) int { return cmp.Compare(a.Session, id) })
	if ok {
		s.Accounts = slices.Delete(s.Accounts, i, i+1)
	}
}

// addDue queues a challenge's deadline. Challenges come in block order,
// so the queue stays sorted unless the answer window shrank; then the
// new one goes where it belongs.
func (s *State) addDue(d Due) {
	i := len(s.Due)
	for i > 0 && s.Due[i-1].Deadline > d.Deadline {
		i--
	}
	s.Due = slices.Insert(s.Due, i, d)
}

// removeOwed drops height from the account's owed challenges and reports
// whether it was there.
func (a *Account) removeOwed(h int64) bool {
	i := slices.Index(a.Owed, h)
	if i < 0 {
		return false
	}
	a.Owed = slices.Delete(a.Owed, i, i+1)
	if len(a.Owed) == 0 {
		a.Owed = nil
	}
	return true
}
