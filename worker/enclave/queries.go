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
	ErrQueryExpired         = errs.Register(Module, workerwire.CodeQueryExpired, "query expired")
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
//
// Queries run concurrently with each other under the runtime's read lock;
// blocks are applied under its write lock, so a query reads one whole
// block's state. Sealing and signing the answer come after the lock.
func (r *Runtime) Query(req workerwire.QueryRequest, remote string) (workerwire.SignedQueryReply, error) {
	var (
		q       workerwire.QueryPlain
		result  workerwire.QueryResult
		chainID string
		height  int64
	)
	err := r.read(func(ctx *module.Context) error {
		chainID, height = ctx.ChainID, ctx.Height
		plain, st := r.contracts.OpenQuery(ctx, req.Contract, req.Generation, req.Sealed, workerwire.QueryAAD(req.Contract))
		if err := openError(st, req.Contract, req.Generation); err != nil {
			return err
		}
		if err := codec.UnmarshalCanonical(plain, &q); err != nil {
			return ErrQueryMalformed.Wrapf("%v", err)
		}
		if err := checkQuery(ctx, req, q); err != nil {
			return err
		}
		caller, callerAddr := queryCaller(q.Caller, remote)
		if err := r.admit(caller, q.Nonce, q.Expiry, ctx.Height); err != nil {
			return err
		}
		result = r.runQuery(ctx, req.Contract, callerAddr, q.Method, q.Args, q.GasLimit)
		return nil
	})
	if err != nil {
		return workerwire.SignedQueryReply{}, err
	}
	out, err := workerwire.SealQueryReply(chainID, height, q, result, r.node.Identity)
	if err != nil {
		return workerwire.SignedQueryReply{}, ErrQueryMalformed.Wrapf("reply key: %v", err)
	}
	return out, nil
}

// read runs f under the read lock with a context at the current height:
// concurrent with other reads, never with a block being applied.
func (r *Runtime) read(f func(ctx *module.Context) error) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return ErrClosed
	}
	return f(&module.Context{ChainID: r.light.ChainID, Identity: r.node.IdentityPublic(), Role: r.role, Height: r.light.Height,
		Time: time.Unix(0, r.light.Time), Secrets: r.ks, Log: r.log})
}

// openError maps the status of opening a sealed query to its refusal.
func openError(st contractsapi.Status, contract contractsapi.Hash, gen uint32) error {
	switch st {
	case contractsapi.StatusOK:
		return nil
	case contractsapi.StatusNoContract:
		return ErrQueryUnknownContract.Wrapf("%s", contract)
	case contractsapi.StatusNoKey:
		return ErrQueryNoKey.Wrapf("contract %s generation %d", contract, gen)
	}
	return ErrQueryUndecryptable.Wrapf("contract %s generation %d", contract, gen)
}

// queryCaller is the rate-limit key and the contract-visible address of a
// query's caller key (none: anonymous, limited by its network address).
func queryCaller(key []byte, remote string) (string, []byte) {
	if len(key) == 0 {
		return "ip:" + remote, nil
	}
	a := address.FromPublicKey(ed25519.PublicKey(key))
	return string(key), a[:]
}

// admit meters caller and refuses a nonce it used before (nil nonce:
// metering only, for session queries, whose replays the session refuses).
func (r *Runtime) admit(caller string, nonce []byte, expiry, height int64) error {
	if !r.queries.allow(caller, time.Now()) {
		return ErrQueryRate.Wrapf("at most %d per second", QueryRate)
	}
	if nonce != nil && !r.queries.remember(caller, nonce, expiry, height) {
		return ErrQueryReplayed.Wrapf("nonce %x", nonce)
	}
	return nil
}

// runQuery runs a query with its gas limit capped at DefaultQueryGas.
func (r *Runtime) runQuery(ctx *module.Context, contract contractsapi.Hash, caller []byte, method string, args []byte, gas uint64) workerwire.QueryResult {
	if gas == 0 || gas > workerwire.DefaultQueryGas {
		gas = workerwire.DefaultQueryGas
	}
	status, res := r.contracts.RunQuery(ctx, contract, caller, method, args, gas)
	return workerwire.QueryResult{Status: status, GasUsed: min(res.GasUsed, gas), Output: res.Output}
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
