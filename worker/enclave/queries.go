package enclave

import (
	"crypto/ed25519"
	"sync"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/workerwire"
)

// Errors of queries (codes 30-39 of this module). Each is a refusal that
// changes nothing.
var (
	ErrQueryUnknownContract = errs.Register(Module, 30, "query for a contract this worker does not run")
	ErrQueryUndecryptable   = errs.Register(Module, 31, "query does not open with the contract's key")
	ErrQueryMalformed       = errs.Register(Module, 32, "malformed query")
	ErrQueryExpired         = errs.Register(Module, 33, "query expired")
	ErrQueryReplayed        = errs.Register(Module, 34, "query replayed")
	ErrQuerySignature       = errs.Register(Module, 35, "query signature does not verify")
	ErrQueryRate            = errs.Register(Module, 36, "too many queries from this caller")
	ErrQueryNoKey           = errs.Register(Module, 37, "query sealed to a key generation this worker does not hold")
)

// Query rate per caller: a token bucket.
const (
	QueryRate  = 200 // per second
	QueryBurst = 400
	// maxSeen bounds the nonces remembered (per window): past it, queries
	// are refused as if replayed rather than forgotten.
	maxSeen = 1 << 20
)

// queryGuard remembers nonces until their expiry and meters callers.
type queryGuard struct {
	mu      sync.Mutex
	seen    map[string]int64 // caller ‖ nonce → expiry height
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (g *queryGuard) allow(caller string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.buckets == nil {
		g.buckets = map[string]*bucket{}
	}
	b := g.buckets[caller]
	if b == nil {
		if len(g.buckets) > 100_000 { // forget idle callers
			for k, o := range g.buckets {
				if now.Sub(o.last) > time.Minute {
					delete(g.buckets, k)
				}
			}
		}
		b = &bucket{tokens: QueryBurst, last: now}
		g.buckets[caller] = b
	}
	b.tokens = min(QueryBurst, b.tokens+now.Sub(b.last).Seconds()*QueryRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// remember records caller's nonce until expiry; false if it was seen.
func (g *queryGuard) remember(caller string, nonce []byte, expiry, height int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]int64{}
	}
	key := caller + "\x00" + string(nonce)
	if _, ok := g.seen[key]; ok {
		return false
	}
	if len(g.seen) >= maxSeen {
		for k, e := range g.seen {
			if e < height {
				delete(g.seen, k)
			}
		}
		if len(g.seen) >= maxSeen {
			return false
		}
	}
	g.seen[key] = expiry
	return true
}

// Query answers a query sealed to a contract's key: it opens it, refuses
// an expired, replayed, badly signed or malformed one, runs the contract's
// query method on its current state (read only: writes are discarded)
// with the query's gas limit, and seals the answer to the query's reply
// key, signed by this enclave's identity key naming the height answered
// at. remote names an anonymous caller for the rate limit (its address).
func (r *Runtime) Query(req workerwire.QueryRequest, remote string) (workerwire.SignedQueryReply, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return workerwire.SignedQueryReply{}, ErrClosed
	}
	ctx := &module.Context{ChainID: r.light.ChainID, Identity: r.node.IdentityPublic(), Role: r.role, Height: r.light.Height,
		Time: time.Unix(0, r.light.Time), Secrets: r.ks, Log: r.log}
	plain, st := r.contracts.OpenQuery(ctx, req.Contract, req.Generation, req.Sealed, workerwire.QueryAAD(req.Contract))
	if st != contractsapi.StatusOK {
		r.mu.Unlock()
		switch st {
		case contractsapi.StatusNoContract:
			return workerwire.SignedQueryReply{}, ErrQueryUnknownContract.Wrapf("%s", req.Contract)
		case contractsapi.StatusNoKey:
			return workerwire.SignedQueryReply{}, ErrQueryNoKey.Wrapf("contract %s generation %d", req.Contract, req.Generation)
		}
		return workerwire.SignedQueryReply{}, ErrQueryUndecryptable.Wrapf("contract %s generation %d", req.Contract, req.Generation)
	}
	var q workerwire.QueryPlain
	if err := codec.UnmarshalCanonical(plain, &q); err != nil {
		r.mu.Unlock()
		return workerwire.SignedQueryReply{}, ErrQueryMalformed.Wrapf("%v", err)
	}
	if err := checkQuery(ctx, req, q); err != nil {
		r.mu.Unlock()
		return workerwire.SignedQueryReply{}, err
	}
	caller := "ip:" + remote
	var callerAddr []byte
	if len(q.Caller) > 0 {
		caller = string(q.Caller)
		a := address.FromPublicKey(ed25519.PublicKey(q.Caller))
		callerAddr = a[:]
	}
	if !r.queries.allow(caller, time.Now()) {
		r.mu.Unlock()
		return workerwire.SignedQueryReply{}, ErrQueryRate.Wrapf("at most %d per second", QueryRate)
	}
	if !r.queries.remember(caller, q.Nonce, q.Expiry, ctx.Height) {
		r.mu.Unlock()
		return workerwire.SignedQueryReply{}, ErrQueryReplayed.Wrapf("nonce %x", q.Nonce)
	}
	gas := q.GasLimit
	if gas == 0 || gas > workerwire.DefaultQueryGas {
		gas = workerwire.DefaultQueryGas
	}
	status, res := r.contracts.RunQuery(ctx, req.Contract, callerAddr, q.Method, q.Args, gas)
	r.mu.Unlock()
	out, err := workerwire.SealQueryReply(ctx.ChainID, ctx.Height, q, workerwire.QueryResult{Status: status, GasUsed: min(res.GasUsed, gas), Output: res.Output}, r.node.Identity)
	if err != nil {
		return workerwire.SignedQueryReply{}, ErrQueryMalformed.Wrapf("reply key: %v", err)
	}
	return out, nil
}

func checkQuery(ctx *module.Context, req workerwire.QueryRequest, q workerwire.QueryPlain) error {
	switch {
	case q.Contract != req.Contract:
		return ErrQueryMalformed.Wrapf("the query names contract %s inside, %s outside", q.Contract, req.Contract)
	case len(q.Nonce) != workerwire.NonceSize:
		return ErrQueryMalformed.Wrapf("nonce of %d bytes, want %d", len(q.Nonce), workerwire.NonceSize)
	case len(q.Args) > workerwire.MaxQueryArgs:
		return ErrQueryMalformed.Wrapf("arguments of %d bytes, at most %d", len(q.Args), workerwire.MaxQueryArgs)
	case len(q.ReplyKey) == 0:
		return ErrQueryMalformed.Wrapf("no reply key")
	case q.Expiry < ctx.Height:
		return ErrQueryExpired.Wrapf("expiry height %d, this worker is at %d", q.Expiry, ctx.Height)
	case q.Expiry > ctx.Height+workerwire.MaxQueryWindow:
		return ErrQueryMalformed.Wrapf("expiry height %d is over %d blocks ahead of %d", q.Expiry, workerwire.MaxQueryWindow, ctx.Height)
	case (len(q.Caller) == 0) != (len(q.Signature) == 0), !q.VerifyCaller(ctx.ChainID):
		return ErrQuerySignature.Wrapf("caller %x", q.Caller)
	}
	return nil
}
