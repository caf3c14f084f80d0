package enclave

import (
	"sync"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/workerwire"
)

// Query sessions (workerwire, session.go): one HPKE open grants a caller a
// session secret bound to a contract, the caller and an expiry height;
// its queries are then sealed with a symmetric cipher. Sessions live in
// memory only: a restarted worker has none, and the caller, told the
// session is unknown, opens another. Nothing of a session is logged.

// Errors of query sessions (codes 50-59 of this module).
var (
	ErrSessionUnknown  = errs.Register(Module, workerwire.CodeSessionUnknown, "unknown query session")
	ErrSessionContract = errs.Register(Module, 51, "query session is for another contract")
	ErrSessionCaller   = errs.Register(Module, 52, "query session is another caller's")
	ErrSessionFull     = errs.Register(Module, 53, "too many query sessions")
)

// Session bounds.
const (
	// MaxSessions bounds the sessions a worker keeps; past it, expired ones
	// go, and if none has, new sessions are refused until some expire.
	MaxSessions = 1 << 16
	// sessionWindow is how far behind the highest sequence number seen a
	// query may still arrive (concurrent queries of one session overtake
	// each other); older ones are refused as replays.
	sessionWindow = 1024
)

// querySession is one granted session.
type querySession struct {
	id       string
	contract contractsapi.Hash
	caller   []byte // the caller's key; nil: anonymous
	expiry   int64
	query    envelope.SessionCipher
	reply    envelope.SessionCipher

	mu   sync.Mutex
	seen replayWindow
}

// replayWindow accepts each sequence number once: it remembers the
// highest seen and which of the sessionWindow below it were.
type replayWindow struct {
	top  uint64
	bits [sessionWindow / 64]uint64 // bit k: top-k was seen
}

// accept records seq; false if it was seen or is too old to tell.
func (w *replayWindow) accept(seq uint64) bool {
	switch {
	case seq == 0:
		return false // numbers start at 1, so the zero window means "none seen"
	case seq > w.top:
		w.shift(seq - w.top)
		w.top = seq
		w.bits[0] |= 1
		return true
	case w.top-seq >= sessionWindow:
		return false
	}
	k := w.top - seq
	word, bit := k/64, uint64(1)<<(k%64)
	if w.bits[word]&bit != 0 {
		return false
	}
	w.bits[word] |= bit
	return true
}

// shift moves the window up by n: bit k becomes bit k+n.
func (w *replayWindow) shift(n uint64) {
	if n >= sessionWindow {
		w.bits = [sessionWindow / 64]uint64{}
		return
	}
	words, bits := int(n/64), n%64
	for i := len(w.bits) - 1; i >= 0; i-- {
		var v uint64
		if src := i - words; src >= 0 {
			v = w.bits[src] << bits
			if bits > 0 && src > 0 {
				v |= w.bits[src-1] >> (64 - bits)
			}
		}
		w.bits[i] = v
	}
}

// sessionTable holds the granted sessions by id.
type sessionTable struct {
	mu   sync.Mutex
	byID map[string]*querySession
}

// add keeps s, first dropping expired sessions when full.
func (t *sessionTable) add(s *querySession, height int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = map[string]*querySession{}
	}
	if len(t.byID) >= MaxSessions {
		for id, o := range t.byID {
			if o.expiry < height {
				delete(t.byID, id)
			}
		}
		if len(t.byID) >= MaxSessions {
			return ErrSessionFull.Wrapf("%d sessions open; retry when some expire", len(t.byID))
		}
	}
	t.byID[s.id] = s
	return nil
}

func (t *sessionTable) get(id []byte) *querySession {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[string(id)]
}

func (t *sessionTable) drop(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byID, id)
}

// OpenSession grants a query session: it opens the request sealed to the
// contract's key, refuses it as Query refuses a query (expired, replayed,
// badly signed, malformed, over the caller's rate), and answers a random
// session id and secret sealed to the request's reply key, signed by this
// enclave's identity key.
func (r *Runtime) OpenSession(req workerwire.SessionRequest, remote string) (workerwire.SignedSessionGrant, error) {
	var (
		o       workerwire.SessionOpen
		chainID string
		height  int64
	)
	err := r.read(func(ctx *module.Context) error {
		chainID, height = ctx.ChainID, ctx.Height
		plain, st := r.contracts.OpenSealed(ctx, req.Contract, req.Generation, envelope.SessionOpen, req.Sealed, workerwire.SessionAAD(req.Contract))
		if err := openError(st, req.Contract, req.Generation); err != nil {
			return err
		}
		if err := codec.UnmarshalCanonical(plain, &o); err != nil {
			return ErrQueryMalformed.Wrapf("session request: %v", err)
		}
		if err := checkSessionOpen(ctx, req, o); err != nil {
			return err
		}
		caller, _ := queryCaller(o.Caller, remote)
		return r.admit(caller, o.Nonce, o.Expiry, ctx.Height)
	})
	if err != nil {
		return workerwire.SignedSessionGrant{}, err
	}
	g := workerwire.NewSessionGrant(o.Expiry)
	s := &querySession{id: string(g.ID), contract: req.Contract, caller: o.Caller, expiry: o.Expiry}
	if s.query, s.reply, err = g.Ciphers(chainID, req.Contract); err != nil {
		return workerwire.SignedSessionGrant{}, ErrQueryMalformed.Wrapf("session keys: %v", err)
	}
	out, err := workerwire.SealSessionGrant(chainID, height, o, g, r.node.Identity)
	if err != nil {
		return workerwire.SignedSessionGrant{}, ErrQueryMalformed.Wrapf("reply key: %v", err)
	}
	if err := r.sessions.add(s, height); err != nil {
		return workerwire.SignedSessionGrant{}, err
	}
	return out, nil
}

func checkSessionOpen(ctx *module.Context, req workerwire.SessionRequest, o workerwire.SessionOpen) error {
	switch {
	case o.Contract != req.Contract:
		return ErrQueryMalformed.Wrapf("the session request names contract %s inside, %s outside", o.Contract, req.Contract)
	case len(o.Nonce) != workerwire.NonceSize:
		return ErrQueryMalformed.Wrapf("nonce of %d bytes, want %d", len(o.Nonce), workerwire.NonceSize)
	case len(o.ReplyKey) == 0:
		return ErrQueryMalformed.Wrapf("no reply key")
	case o.Expiry < ctx.Height:
		return ErrQueryExpired.Wrapf("session expiry height %d, this worker is at %d", o.Expiry, ctx.Height)
	case o.Expiry > ctx.Height+workerwire.MaxSessionWindow:
		return ErrQueryMalformed.Wrapf("session expiry height %d is over %d blocks ahead of %d", o.Expiry, workerwire.MaxSessionWindow, ctx.Height)
	case (len(o.Caller) == 0) != (len(o.Signature) == 0), !o.VerifyCaller(ctx.ChainID):
		return ErrQuerySignature.Wrapf("caller %x", o.Caller)
	}
	return nil
}

// SessionQuery answers one query of a session: it finds the session,
// refuses another contract, a query that does not open under the
// session's key, another caller, an expired session or a sequence number
// seen before, then runs the query as Query does and seals the answer
// under the session's reply key, signed by this enclave's identity key
// naming the height answered at.
func (r *Runtime) SessionQuery(req workerwire.SessionQueryRequest, remote string) (workerwire.SignedSessionReply, error) {
	s := r.sessions.get(req.Session)
	switch {
	case s == nil:
		return workerwire.SignedSessionReply{}, ErrSessionUnknown.Wrapf("open a new session")
	case s.contract != req.Contract:
		return workerwire.SignedSessionReply{}, ErrSessionContract.Wrapf("the session is for contract %s, the query for %s", s.contract, req.Contract)
	}
	aad := workerwire.SessionQueryAAD(req.Contract, req.Session)
	plain, err := s.query.Open(req.Seq, req.Sealed, aad)
	if err != nil {
		return workerwire.SignedSessionReply{}, ErrQueryUndecryptable.Wrapf("session query %d", req.Seq)
	}
	var q workerwire.SessionQuery
	if err := codec.UnmarshalCanonical(plain, &q); err != nil {
		return workerwire.SignedSessionReply{}, ErrQueryMalformed.Wrapf("session query: %v", err)
	}
	if err := checkSessionQuery(s, q); err != nil {
		return workerwire.SignedSessionReply{}, err
	}
	var (
		result  workerwire.QueryResult
		chainID string
		height  int64
	)
	err = r.read(func(ctx *module.Context) error {
		chainID, height = ctx.ChainID, ctx.Height
		if s.expiry < ctx.Height {
			r.sessions.drop(s.id)
			return ErrQueryExpired.Wrapf("the session expired at height %d, this worker is at %d", s.expiry, ctx.Height)
		}
		s.mu.Lock()
		fresh := s.seen.accept(req.Seq)
		s.mu.Unlock()
		if !fresh {
			return ErrQueryReplayed.Wrapf("session query %d", req.Seq)
		}
		caller, callerAddr := queryCaller(s.caller, remote)
		if err := r.admit(caller, nil, 0, ctx.Height); err != nil {
			return err
		}
		result = r.runQuery(ctx, s.contract, callerAddr, q.Method, q.Args, q.GasLimit)
		return nil
	})
	if err != nil {
		return workerwire.SignedSessionReply{}, err
	}
	return workerwire.SealSessionReply(chainID, height, s.contract, req.Session, req.Seq, s.reply, result, r.node.Identity)
}

func checkSessionQuery(s *querySession, q workerwire.SessionQuery) error {
	switch {
	case string(q.Caller) != string(s.caller):
		return ErrSessionCaller.Wrapf("the query asks as %x, the session is %x's", q.Caller, s.caller)
	case len(q.Args) > workerwire.MaxQueryArgs:
		return ErrQueryMalformed.Wrapf("arguments of %d bytes, at most %d", len(q.Args), workerwire.MaxQueryArgs)
	}
	return nil
}
