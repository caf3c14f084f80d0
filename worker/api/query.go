package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/workerwire"
)

// ErrContractBusy: the contract already answers as many queries as it
// admits at once (QueryConcurrency); retry shortly.
var ErrContractBusy = errs.Register(Module, 14, "contract busy with queries")

// QueryConcurrency caps the queries (one-shot and in sessions) one
// contract has in flight at once, so one hot contract does not take every
// slot of the routes. Half the query route's slots: enough for 32 callers
// of one contract, whose queries share the contract's pool of query
// reactors (vm.Config.QueryReactors) and wait there for a free one.
const QueryConcurrency = 32

// QueryServer is implemented by runtimes that run contracts.
type QueryServer interface {
	Query(req workerwire.QueryRequest, remote string) (workerwire.SignedQueryReply, error)
}

// SessionServer is implemented by runtimes that grant query sessions.
type SessionServer interface {
	OpenSession(req workerwire.SessionRequest, remote string) (workerwire.SignedSessionGrant, error)
	SessionQuery(req workerwire.SessionQueryRequest, remote string) (workerwire.SignedSessionReply, error)
}

// contractSlots hands out per-contract slots; an idle contract's entry
// goes, so the map holds only contracts with queries in flight.
type contractSlots struct {
	mu    sync.Mutex
	inUse map[contractsapi.Hash]int
}

func newContractSlots() *contractSlots {
	return &contractSlots{inUse: map[contractsapi.Hash]int{}}
}

func (s *contractSlots) take(id contractsapi.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inUse[id] >= QueryConcurrency {
		return false
	}
	s.inUse[id]++
	return true
}

func (s *contractSlots) give(id contractsapi.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inUse[id]--; s.inUse[id] <= 0 {
		delete(s.inUse, id)
	}
}

// queryRoute serves one POST route of the query family: a JSON body of
// type T of at most max bytes naming a contract, admitted by the
// contract's slots, answered by serve (nil: the runtime runs no
// contracts).
func queryRoute[T any, R any](slots *contractSlots, max int64, contract func(*T) contractsapi.Hash, serve func(T, string) (R, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, ok := readQueryBody[T](w, r, max)
		if !ok {
			return
		}
		if serve == nil {
			writeQueryError(w, enclave.ErrQueryUnknownContract.Wrapf("this runtime runs no contracts"))
			return
		}
		id := contract(&req)
		if !slots.take(id) {
			w.Header().Set("Retry-After", "1")
			writeQueryError(w, ErrContractBusy.Wrapf("contract %s: %d queries in progress", id, QueryConcurrency))
			return
		}
		defer slots.give(id)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		out, err := serve(req, host)
		if err != nil {
			writeQueryError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// readQueryBody reads a POSTed JSON body of at most max bytes, strictly;
// false: it answered the refusal.
func readQueryBody[T any](w http.ResponseWriter, r *http.Request, max int64) (T, bool) {
	var req T
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writePublicError(w, ErrMethod.Wrapf("%s %s", r.Method, r.URL.Path))
		return req, false
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		writePublicError(w, ErrContentType.Wrapf("%q, want application/json", ct))
		return req, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writePublicError(w, ErrTooLarge.Wrapf("request over %d bytes", max))
		return req, false
	case err != nil:
		writePublicError(w, ErrBadBody.Wrapf("read: %v", err))
		return req, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writePublicError(w, ErrBadBody.Wrapf("query: %v", err))
		return req, false
	}
	return req, true
}

// queryHandlers serve POST /v1/query (one-shot) and the session routes,
// sharing the per-contract slots.
func queryHandlers(mux *http.ServeMux, rt Runtime) {
	slots := newContractSlots()
	var (
		query        func(workerwire.QueryRequest, string) (workerwire.SignedQueryReply, error)
		openSession  func(workerwire.SessionRequest, string) (workerwire.SignedSessionGrant, error)
		sessionQuery func(workerwire.SessionQueryRequest, string) (workerwire.SignedSessionReply, error)
	)
	if qs, ok := rt.(QueryServer); ok {
		query = qs.Query
	}
	if ss, ok := rt.(SessionServer); ok {
		openSession, sessionQuery = ss.OpenSession, ss.SessionQuery
	}
	mux.HandleFunc(workerwire.PathQuery, queryRoute(slots, workerwire.MaxQueryBody,
		func(q *workerwire.QueryRequest) contractsapi.Hash { return q.Contract }, query))
	mux.HandleFunc(workerwire.PathSession, queryRoute(slots, workerwire.MaxQueryBody,
		func(q *workerwire.SessionRequest) contractsapi.Hash { return q.Contract }, openSession))
	mux.HandleFunc(workerwire.PathSessionQuery, queryRoute(slots, workerwire.MaxSessionQueryBody,
		func(q *workerwire.SessionQueryRequest) contractsapi.Hash { return q.Contract }, sessionQuery))
}

// queryStatus maps a query refusal to its HTTP status.
func queryStatus(err error) int {
	switch {
	case errors.Is(err, enclave.ErrQueryUnknownContract), errors.Is(err, enclave.ErrQueryNoKey),
		errors.Is(err, enclave.ErrSessionUnknown):
		return http.StatusNotFound
	case errors.Is(err, enclave.ErrQueryUndecryptable), errors.Is(err, enclave.ErrQueryMalformed):
		return http.StatusBadRequest
	case errors.Is(err, enclave.ErrQueryExpired):
		return http.StatusGone
	case errors.Is(err, enclave.ErrQueryReplayed):
		return http.StatusConflict
	case errors.Is(err, enclave.ErrQuerySignature), errors.Is(err, enclave.ErrSessionContract), errors.Is(err, enclave.ErrSessionCaller):
		return http.StatusForbidden
	case errors.Is(err, enclave.ErrQueryRate):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrContractBusy), errors.Is(err, enclave.ErrSessionFull):
		return http.StatusServiceUnavailable
	}
	return statusOf(err)
}

func writeQueryError(w http.ResponseWriter, err error) {
	e := wireError(err)
	writeJSON(w, queryStatus(err), map[string]any{"module": e.Module, "code": e.Code, "message": e.Message})
}
