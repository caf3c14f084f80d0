package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// Queries go straight to a worker of the contract's cluster (POST
// /v1/query), sealed here to the contract's newest public key, with a
// nonce, an expiry height and a fresh reply key; signed by the caller when
// a key is given (contracts then see an authenticated caller). Nothing
// goes on chain.
//
// Repeated queries to the same worker and contract, as the same caller,
// go through a query session (session.go): the first query is one-shot,
// the second opens a session (one KEM each way, as a one-shot query), and
// every later one is sealed under the session's symmetric key and needs
// no chain read at all.

// QueryOptions say where to ask and as whom.
type QueryOptions struct {
	Workers []string           // workers' public API URLs, the first that answers wins (none: the cluster's on chain)
	Key     ed25519.PrivateKey // nil: an anonymous query
	// GasLimit: 0 is workerwire.DefaultQueryGas.
	GasLimit uint64
	// Window is the blocks the query stays valid (0: 20).
	Window int64
	// OneShot never uses a session: every query is sealed to the
	// contract's key and carries its own nonce and expiry.
	OneShot bool
	// SessionWindow is the blocks a new session stays valid (0:
	// DefaultSessionWindow).
	SessionWindow int64
}

// DefaultSessionWindow is a session's lifetime unless set: 300 blocks.
const DefaultSessionWindow = 300

// QueryAnswer is an opened query reply and who answered.
type QueryAnswer struct {
	workerwire.QueryResult
	Worker     ed25519.PublicKey
	Assigned   bool  // the worker is assigned to the contract's cluster on chain
	AnsweredAt int64 // the height the worker answered at
	URL        string
	Session    bool // answered in a query session
}

// Err is nil for a query that returned, else its status and the
// contract's error text.
func (a QueryAnswer) Err() error {
	if a.Status == contractsapi.StatusOK {
		return nil
	}
	msg := fmt.Sprintf("query: %s (gas used %d)", a.Status, a.GasUsed)
	if len(a.Output) > 0 {
		msg += ": " + string(a.Output)
	}
	return &workerwire.CommandError{Status: a.Status, GasUsed: a.GasUsed, Message: msg}
}

// queryTarget is what the chain says about a contract for a query: read
// once per one-shot query or session opened.
type queryTarget struct {
	chainID string
	cluster string
	workers []ed25519.PublicKey // assigned to the cluster
	key     keysapi.ContractPublic
	height  int64
}

func (c *Client) queryTarget(ctx context.Context, contract contractsapi.Hash) (queryTarget, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return queryTarget{}, err
	}
	rec, err := c.Contract(ctx, contract)
	if err != nil {
		return queryTarget{}, fmt.Errorf("contract %s: %w", contract, err)
	}
	pubs, err := c.ContractKeys(ctx, rec.Cluster, contract[:])
	if err != nil {
		return queryTarget{}, err
	}
	if len(pubs) == 0 {
		return queryTarget{}, contractsapi.ErrNoContractKey.Wrapf("contract %s: the gatekeepers have not published its key yet", contract)
	}
	cl, err := c.Cluster(ctx, rec.Cluster)
	if err != nil {
		return queryTarget{}, err
	}
	height, err := c.LatestHeight(ctx)
	if err != nil {
		return queryTarget{}, err
	}
	t := queryTarget{chainID: chainID, cluster: rec.Cluster, key: pubs[len(pubs)-1], height: height}
	for _, w := range cl.Workers {
		t.workers = append(t.workers, ed25519.PublicKey(w))
	}
	return t, nil
}

func (t queryTarget) assigned(worker ed25519.PublicKey) bool {
	return slices.ContainsFunc(t.workers, func(w ed25519.PublicKey) bool { return w.Equal(worker) })
}

// ContractQuery runs method with args (JSON) as a query of contract on a
// worker of its cluster: the first worker that answers, in o.Workers
// order. A worker that answers but is not assigned to the cluster on
// chain gives its answer with an error.
func (c *Client) ContractQuery(ctx context.Context, contract contractsapi.Hash, method string, args []byte, o QueryOptions) (QueryAnswer, error) {
	if o.Window <= 0 {
		o.Window = 20
	}
	if o.SessionWindow <= 0 {
		o.SessionWindow = DefaultSessionWindow
	}
	if len(o.Workers) == 0 { // the cluster's, as the chain lists them
		urls, _, err := c.ContractWorkerURLs(ctx, contract)
		if err != nil {
			return QueryAnswer{}, err
		}
		if len(urls) == 0 {
			return QueryAnswer{}, ErrNoWorkers
		}
		o.Workers = urls
	}
	var (
		target *queryTarget // read from the chain once, when needed
		errs   []error
	)
	lookup := func() (queryTarget, error) {
		if target == nil {
			t, err := c.queryTarget(ctx, contract)
			if err != nil {
				return t, err
			}
			target = &t
		}
		return *target, nil
	}
	for _, u := range o.Workers {
		u = strings.TrimRight(u, "/")
		a, err := c.queryWorker(ctx, u, contract, method, args, o, lookup)
		if err == nil {
			return a, nil
		}
		var we *WorkerError
		switch {
		case a.Worker != nil: // answered, but not by an assigned worker
			return a, err
		case !errors.As(err, &we):
			if errors.Is(err, ctx.Err()) || !isUnreachable(err) {
				return QueryAnswer{}, err
			}
		case we.Status != http.StatusServiceUnavailable && we.Status != http.StatusNotFound:
			return QueryAnswer{}, err // the query is wrong: another worker says the same
		}
		errs = append(errs, err)
	}
	return QueryAnswer{}, fmt.Errorf("no worker answered the query: %w", errors.Join(errs...))
}

// queryWorker asks the worker at u: in its session with it if there is
// one, in a new session if this is a repeated query, else one-shot.
func (c *Client) queryWorker(ctx context.Context, u string, contract contractsapi.Hash, method string, args []byte, o QueryOptions, lookup func() (queryTarget, error)) (QueryAnswer, error) {
	key := sessionKeyOf(u, contract, o.Key)
	if !o.OneShot {
		if s := c.sessions.get(key); s != nil {
			a, err := c.sessionQuery(ctx, s, method, args, o)
			if !staleSession(err) {
				return a, err
			}
			c.sessions.drop(key, s)
		}
		if c.sessions.repeated(key) {
			t, err := lookup()
			if err != nil {
				return QueryAnswer{}, err
			}
			s, err := c.openSession(ctx, u, contract, t, o)
			if err != nil {
				return QueryAnswer{}, err
			}
			if !s.assigned {
				return QueryAnswer{Worker: s.worker, URL: u}, fmt.Errorf("worker %s (identity %x) granted a session, but is not assigned to cluster %q", u, []byte(s.worker), t.cluster)
			}
			c.sessions.put(key, s)
			return c.sessionQuery(ctx, s, method, args, o)
		}
	}
	t, err := lookup()
	if err != nil {
		return QueryAnswer{}, err
	}
	a, err := c.oneShot(ctx, u, contract, method, args, o, t)
	if err == nil {
		c.sessions.asked(key)
	}
	return a, err
}

// oneShot seals one query to the contract's key and asks u.
func (c *Client) oneShot(ctx context.Context, u string, contract contractsapi.Hash, method string, args []byte, o QueryOptions, t queryTarget) (QueryAnswer, error) {
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return QueryAnswer{}, err
	}
	q := workerwire.QueryPlain{Contract: contract, Method: method, Args: args, Nonce: workerwire.NewNonce(), Expiry: t.height + o.Window,
		GasLimit: o.GasLimit, ReplyKey: reply.PublicKey().Bytes()}
	if o.Key != nil {
		q.Sign(t.chainID, o.Key)
	}
	sealed, err := envelope.SealTo(t.chainID, envelope.Query, envelope.Default, t.key.PublicKey, codec.MustMarshal(q), workerwire.QueryAAD(contract))
	if err != nil {
		return QueryAnswer{}, err
	}
	var s workerwire.SignedQueryReply
	if err := postWorker(ctx, u+workerwire.PathQuery, workerwire.QueryRequest{Contract: contract, Generation: t.key.Generation, Sealed: sealed}, &s); err != nil {
		return QueryAnswer{}, err
	}
	r, err := s.Open(t.chainID, q.Nonce, reply)
	if err != nil {
		return QueryAnswer{}, fmt.Errorf("worker %s: %w", u, err)
	}
	a := QueryAnswer{QueryResult: r, Worker: ed25519.PublicKey(s.Worker), AnsweredAt: s.Height, URL: u, Assigned: t.assigned(ed25519.PublicKey(s.Worker))}
	if !a.Assigned {
		return a, fmt.Errorf("worker %s (identity %x) answered, but is not assigned to cluster %q", a.URL, []byte(a.Worker), t.cluster)
	}
	return a, nil
}

// postWorker POSTs body as JSON to url and decodes a 200 answer into out;
// any other status is a *WorkerError.
func postWorker(ctx context.Context, url string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := queryHTTP.Do(req)
	if err != nil {
		return &unreachableError{err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return &unreachableError{err}
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(url, workerwire.PathSessionQuery), workerwire.PathSession), workerwire.PathQuery)
	if resp.StatusCode != http.StatusOK {
		we := &WorkerError{URL: base, Status: resp.StatusCode}
		if json.Unmarshal(answer, we) != nil {
			we.Message = strings.TrimSpace(string(answer))
		}
		return we
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("worker %s: %w", base, workerwire.ErrMalformed.Wrapf("%v", err))
	}
	return nil
}

// unreachableError: the worker did not answer; the next one is asked.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "worker unreachable: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

func isUnreachable(err error) bool {
	var u *unreachableError
	return errors.As(err, &u)
}

// queryHTTP keeps enough idle connections for many concurrent queries to
// one worker (the default transport keeps two per host, and a third
// caller would open and close a connection per query).
var queryHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	Proxy: http.ProxyFromEnvironment, MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
}}
