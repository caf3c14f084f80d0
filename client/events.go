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
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// Events addressed to an account (a contract's emit with an audience)
// are read from a worker of the contract's cluster by a request the
// account signs (POST /v1/events); the answer is sealed to a fresh reply
// key made here. Nothing of it is on chain.

// EventsOptions say where to ask and what for.
type EventsOptions struct {
	// Workers are public API URLs to ask; none: the cluster's on chain.
	Workers []string
	// Cluster whose workers are asked (when none are given) and checked
	// against: "" is the contract's, or DefaultCluster.
	Cluster string
	// Contract limits the events to one contract (zero: all).
	Contract contractsapi.Hash
	// After is a cursor: events with a greater index (0: from the oldest
	// a worker keeps); Limit bounds the page (0: the worker's page).
	After uint64
	Limit uint32
	// Window is the blocks the request stays valid (0: 20).
	Window int64
}

// EventsAnswer is an opened answer and who gave it.
type EventsAnswer struct {
	workerwire.EventsResult
	Worker     ed25519.PublicKey
	Assigned   bool
	AnsweredAt int64
	URL        string
}

// AccountEvents reads the events addressed to key's account from a worker
// of the cluster, checking its signature and that it is one of the
// cluster's workers on chain.
func (c *Client) AccountEvents(ctx context.Context, key ed25519.PrivateKey, o EventsOptions) (EventsAnswer, error) {
	if o.Window <= 0 {
		o.Window = 20
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return EventsAnswer{}, err
	}
	if o.Cluster == "" {
		o.Cluster = DefaultCluster
		if o.Contract != (contractsapi.Hash{}) {
			rec, err := c.Contract(ctx, o.Contract)
			if err != nil {
				return EventsAnswer{}, fmt.Errorf("contract %s: %w", o.Contract, err)
			}
			o.Cluster = rec.Cluster
		}
	}
	cl, err := c.Cluster(ctx, o.Cluster)
	if err != nil {
		return EventsAnswer{}, fmt.Errorf("cluster %q: %w", o.Cluster, err)
	}
	if len(o.Workers) == 0 {
		if o.Workers, err = c.ClusterWorkerURLs(ctx, o.Cluster); err != nil {
			return EventsAnswer{}, err
		}
		if len(o.Workers) == 0 {
			return EventsAnswer{}, ErrNoWorkers
		}
	}
	height, err := c.LatestHeight(ctx)
	if err != nil {
		return EventsAnswer{}, err
	}
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		return EventsAnswer{}, err
	}
	req := workerwire.EventsRequest{Contract: o.Contract, After: o.After, Limit: o.Limit, Nonce: workerwire.NewNonce(),
		Expiry: height + o.Window, ReplyKey: reply.PublicKey().Bytes()}
	req.Sign(chainID, key)
	body, err := json.Marshal(req)
	if err != nil {
		return EventsAnswer{}, err
	}
	var errs []error
	for _, u := range o.Workers {
		base := strings.TrimRight(u, "/")
		var s workerwire.SignedEventsReply
		if err := postWorkerJSON(ctx, base, workerwire.PathEvents, body, &s); err != nil {
			var we *WorkerError
			if errors.As(err, &we) && we.Status != http.StatusServiceUnavailable && we.Status != http.StatusNotFound {
				return EventsAnswer{}, err // the request is wrong: another worker says the same
			}
			errs = append(errs, err)
			continue
		}
		r, err := s.Open(chainID, req.Nonce, reply)
		if err != nil {
			return EventsAnswer{}, fmt.Errorf("worker %s: %w", base, err)
		}
		a := EventsAnswer{EventsResult: r, Worker: ed25519.PublicKey(s.Worker), AnsweredAt: s.Height, URL: base}
		for _, w := range cl.Workers {
			a.Assigned = a.Assigned || w.Equal(a.Worker)
		}
		if !a.Assigned {
			return a, fmt.Errorf("worker %s (identity %x) answered, but is not assigned to cluster %q", base, []byte(a.Worker), o.Cluster)
		}
		return a, nil
	}
	return EventsAnswer{}, fmt.Errorf("no worker answered: %w", errors.Join(errs...))
}

// postWorkerJSON POSTs a JSON body to path on the worker at base and
// decodes its JSON answer into out; a refusal is a *WorkerError.
func postWorkerJSON(ctx context.Context, base, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := workerHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("worker %s: %w", base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("worker %s: %w", base, err)
	}
	if len(raw) > maxAnswer {
		return fmt.Errorf("worker %s: answer over %d bytes", base, maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		we := &WorkerError{URL: base, Status: resp.StatusCode}
		if json.Unmarshal(raw, we) != nil {
			we.Message = strings.TrimSpace(string(raw))
		}
		return we
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("worker %s: %w", base, workerwire.ErrMalformed.Wrapf("%v", err))
	}
	return nil
}
