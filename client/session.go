package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// Query sessions on the client side: one per (worker, contract, caller),
// opened on the second query to the same three and used until the worker
// says it is unknown (it restarted) or expired, when the next query opens
// another. The session secret stays in this process's memory.

// sessionKey names a session: the worker's URL, the contract and the
// caller's public key ("" anonymous).
type sessionKey struct {
	worker   string
	contract contractsapi.Hash
	caller   string
}

func sessionKeyOf(worker string, contract contractsapi.Hash, key ed25519.PrivateKey) sessionKey {
	k := sessionKey{worker: worker, contract: contract}
	if key != nil {
		k.caller = string(key.Public().(ed25519.PublicKey))
	}
	return k
}

// clientSession is an open session.
type clientSession struct {
	url      string
	chainID  string
	contract contractsapi.Hash
	id       []byte
	caller   []byte
	expiry   int64
	query    envelope.SessionCipher
	reply    envelope.SessionCipher
	worker   ed25519.PublicKey // the worker that granted it
	assigned bool              // to the contract's cluster, when granted
	seq      atomic.Uint64     // the last sequence number used
}

// maxAsked bounds the (worker, contract, caller) triples remembered as
// asked once; past it the memory starts over (a later repeat then costs
// one more one-shot query).
const maxAsked = 4096

// sessionCache is a client's sessions; the zero value is ready.
type sessionCache struct {
	mu     sync.Mutex
	open   map[sessionKey]*clientSession
	askedK map[sessionKey]bool
}

func (c *sessionCache) get(k sessionKey) *clientSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open[k]
}

func (c *sessionCache) put(k sessionKey, s *clientSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[sessionKey]*clientSession{}
	}
	c.open[k] = s
}

// drop forgets s (if it is still k's session: a concurrent query may
// have opened a new one already).
func (c *sessionCache) drop(k sessionKey, s *clientSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[k] == s {
		delete(c.open, k)
	}
}

// asked remembers that k had a one-shot query.
func (c *sessionCache) asked(k sessionKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.askedK == nil || len(c.askedK) >= maxAsked {
		c.askedK = map[sessionKey]bool{}
	}
	c.askedK[k] = true
}

// repeated reports whether k was asked before.
func (c *sessionCache) repeated(k sessionKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.askedK[k]
}

// staleSession reports a refusal that a new session cures: the worker
// does not know the session (it restarted) or it expired.
func staleSession(err error) bool {
	var we *WorkerError
	if !errors.As(err, &we) || we.Module != workerwire.RuntimeModule {
		return false
	}
	return we.Code == workerwire.CodeSessionUnknown || we.Code == workerwire.CodeQueryExpired
}

// openSession asks the worker at u for a session on contract, valid for
// o.SessionWindow blocks from t's height.
func (c *Client) openSession(ctx context.Context, u string, contract contractsapi.Hash, t queryTarget, o QueryOptions) (*clientSession, error) {
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return nil, err
	}
	req := workerwire.SessionOpen{Contract: contract, Nonce: workerwire.NewNonce(), Expiry: t.height + min(o.SessionWindow, workerwire.MaxSessionWindow),
		ReplyKey: reply.PublicKey().Bytes()}
	if o.Key != nil {
		req.Sign(t.chainID, o.Key)
	}
	sealed, err := envelope.SealTo(t.chainID, envelope.SessionOpen, envelope.Default, t.key.PublicKey, codec.MustMarshal(req), workerwire.SessionAAD(contract))
	if err != nil {
		return nil, err
	}
	var signed workerwire.SignedSessionGrant
	if err := postWorker(ctx, u+workerwire.PathSession, workerwire.SessionRequest{Contract: contract, Generation: t.key.Generation, Sealed: sealed}, &signed); err != nil {
		return nil, err
	}
	g, err := signed.Open(t.chainID, req.Nonce, reply)
	if err != nil {
		return nil, fmt.Errorf("worker %s: %w", u, err)
	}
	s := &clientSession{url: u, chainID: t.chainID, contract: contract, id: g.ID, caller: req.Caller, expiry: g.Expiry,
		worker: ed25519.PublicKey(signed.Worker), assigned: t.assigned(ed25519.PublicKey(signed.Worker))}
	if s.query, s.reply, err = g.Ciphers(t.chainID, contract); err != nil {
		return nil, fmt.Errorf("worker %s: %w", u, err)
	}
	return s, nil
}

// sessionQuery asks one query in s.
func (c *Client) sessionQuery(ctx context.Context, s *clientSession, method string, args []byte, o QueryOptions) (QueryAnswer, error) {
	seq := s.seq.Add(1)
	q := workerwire.SessionQuery{Method: method, Args: args, GasLimit: o.GasLimit, Caller: s.caller}
	sealed, err := s.query.Seal(seq, codec.MustMarshal(q), workerwire.SessionQueryAAD(s.contract, s.id))
	if err != nil {
		return QueryAnswer{}, err
	}
	var signed workerwire.SignedSessionReply
	if err := postWorker(ctx, s.url+workerwire.PathSessionQuery, workerwire.SessionQueryRequest{Session: s.id, Contract: s.contract, Seq: seq, Sealed: sealed}, &signed); err != nil {
		return QueryAnswer{}, err
	}
	if !s.worker.Equal(ed25519.PublicKey(signed.Worker)) {
		return QueryAnswer{}, fmt.Errorf("worker %s: %w", s.url, workerwire.ErrMismatch.Wrapf("answer signed by %x, the session was granted by %x", signed.Worker, []byte(s.worker)))
	}
	r, err := signed.Open(s.chainID, s.contract, s.id, seq, s.reply)
	if err != nil {
		return QueryAnswer{}, fmt.Errorf("worker %s: %w", s.url, err)
	}
	return QueryAnswer{QueryResult: r, Worker: s.worker, Assigned: s.assigned, AnsweredAt: signed.Height, URL: s.url, Session: true}, nil
}
