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
	"strings"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// Queries go straight to a worker of the contract's cluster (POST
// /v1/query), sealed here to the contract's newest public key, with a
// nonce, an expiry height and a fresh reply key; signed by the caller when
// a key is given (contracts then see an authenticated caller). Nothing
// goes on chain.

// QueryOptions say where to ask and as whom.
type QueryOptions struct {
	Workers []string           // workers' public API URLs; the first that answers wins
	Key     ed25519.PrivateKey // nil: an anonymous query
	// GasLimit: 0 is workerwire.DefaultQueryGas.
	GasLimit uint64
	// Window is the blocks the query stays valid (0: 20).
	Window int64
}

// QueryAnswer is an opened query reply and who answered.
type QueryAnswer struct {
	workerwire.QueryResult
	Worker     ed25519.PublicKey
	Assigned   bool  // the worker is assigned to the contract's cluster on chain
	AnsweredAt int64 // the height the worker answered at
	URL        string
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

// ContractQuery runs method with args (JSON) as a query of contract on a
// worker of its cluster.
func (c *Client) ContractQuery(ctx context.Context, contract contractsapi.Hash, method string, args []byte, o QueryOptions) (QueryAnswer, error) {
	if len(o.Workers) == 0 {
		return QueryAnswer{}, ErrNoWorkers
	}
	if o.Window <= 0 {
		o.Window = 20
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return QueryAnswer{}, err
	}
	rec, err := c.Contract(ctx, contract)
	if err != nil {
		return QueryAnswer{}, fmt.Errorf("contract %s: %w", contract, err)
	}
	pubs, err := c.ContractKeys(ctx, rec.Cluster, contract[:])
	if err != nil {
		return QueryAnswer{}, err
	}
	if len(pubs) == 0 {
		return QueryAnswer{}, contractsapi.ErrNoContractKey.Wrapf("contract %s: the gatekeepers have not published its key yet", contract)
	}
	cl, err := c.Cluster(ctx, rec.Cluster)
	if err != nil {
		return QueryAnswer{}, err
	}
	height, err := c.LatestHeight(ctx)
	if err != nil {
		return QueryAnswer{}, err
	}
	newest := pubs[len(pubs)-1]
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return QueryAnswer{}, err
	}
	q := workerwire.QueryPlain{Contract: contract, Method: method, Args: args, Nonce: workerwire.NewNonce(), Expiry: height + o.Window,
		GasLimit: o.GasLimit, ReplyKey: reply.PublicKey().Bytes()}
	if o.Key != nil {
		q.Sign(chainID, o.Key)
	}
	sealed, err := envelope.SealTo(chainID, envelope.Query, envelope.Default, newest.PublicKey, codec.MustMarshal(q), workerwire.QueryAAD(contract))
	if err != nil {
		return QueryAnswer{}, err
	}
	body, err := json.Marshal(workerwire.QueryRequest{Contract: contract, Generation: newest.Generation, Sealed: sealed})
	if err != nil {
		return QueryAnswer{}, err
	}
	var errs []error
	for _, u := range o.Workers {
		s, err := postQuery(ctx, u, body)
		if err != nil {
			var we *WorkerError
			if errors.As(err, &we) && we.Status != http.StatusServiceUnavailable && we.Status != http.StatusNotFound {
				return QueryAnswer{}, err // the query is wrong: another worker says the same
			}
			errs = append(errs, err)
			continue
		}
		r, err := s.Open(chainID, q.Nonce, reply)
		if err != nil {
			return QueryAnswer{}, fmt.Errorf("worker %s: %w", u, err)
		}
		a := QueryAnswer{QueryResult: r, Worker: ed25519.PublicKey(s.Worker), AnsweredAt: s.Height, URL: strings.TrimRight(u, "/")}
		for _, w := range cl.Workers {
			a.Assigned = a.Assigned || w.Equal(a.Worker)
		}
		if !a.Assigned {
			return a, fmt.Errorf("worker %s (identity %x) answered, but is not assigned to cluster %q", a.URL, []byte(a.Worker), rec.Cluster)
		}
		return a, nil
	}
	return QueryAnswer{}, fmt.Errorf("no worker answered the query: %w", errors.Join(errs...))
}

func postQuery(ctx context.Context, workerURL string, body []byte) (workerwire.SignedQueryReply, error) {
	base := strings.TrimRight(workerURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+workerwire.PathQuery, bytes.NewReader(body))
	if err != nil {
		return workerwire.SignedQueryReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := workerHTTP.Do(req)
	if err != nil {
		return workerwire.SignedQueryReply{}, fmt.Errorf("worker %s: %w", base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return workerwire.SignedQueryReply{}, fmt.Errorf("worker %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		we := &WorkerError{URL: base, Status: resp.StatusCode}
		if json.Unmarshal(raw, we) != nil {
			we.Message = strings.TrimSpace(string(raw))
		}
		return workerwire.SignedQueryReply{}, we
	}
	var s workerwire.SignedQueryReply
	if err := json.Unmarshal(raw, &s); err != nil {
		return workerwire.SignedQueryReply{}, fmt.Errorf("worker %s: %w", base, workerwire.ErrMalformed.Wrapf("%v", err))
	}
	return s, nil
}
