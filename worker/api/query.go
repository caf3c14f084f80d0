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

// QueryConcurrency caps the queries one contract answers at once, so one
// hot contract does not take every slot of the route.
const QueryConcurrency = 4

// QueryServer is implemented by runtimes that run contracts.
type QueryServer interface {
	Query(req workerwire.QueryRequest, remote string) (workerwire.SignedQueryReply, error)
}

// contractSlots hands out per-contract slots; an idle contract's entry
// goes, so the map holds only contracts with queries in flight.
type contractSlots struct {
	mu    sync.Mutex
	inUse map[contractsapi.Hash]int
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

// queryHandler serves POST /v1/query.
func queryHandler(rt Runtime) http.HandlerFunc {
	qs, _ := rt.(QueryServer)
	slots := &contractSlots{inUse: map[contractsapi.Hash]int{}}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writePublicError(w, ErrMethod.Wrapf("%s %s", r.Method, r.URL.Path))
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			writePublicError(w, ErrContentType.Wrapf("%q, want application/json", ct))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, workerwire.MaxQueryBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writePublicError(w, ErrTooLarge.Wrapf("query over %d bytes", workerwire.MaxQueryBody))
			return
		case err != nil:
			writePublicError(w, ErrBadBody.Wrapf("read: %v", err))
			return
		}
		var req workerwire.QueryRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writePublicError(w, ErrBadBody.Wrapf("query: %v", err))
			return
		}
		if qs == nil {
			writeQueryError(w, enclave.ErrQueryUnknownContract.Wrapf("this runtime runs no contracts"))
			return
		}
		if !slots.take(req.Contract) {
			w.Header().Set("Retry-After", "1")
			writeQueryError(w, ErrContractBusy.Wrapf("contract %s: %d queries in progress", req.Contract, QueryConcurrency))
			return
		}
		defer slots.give(req.Contract)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		out, err := qs.Query(req, host)
		if err != nil {
			writeQueryError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// queryStatus maps a query refusal to its HTTP status.
func queryStatus(err error) int {
	switch {
	case errors.Is(err, enclave.ErrQueryUnknownContract), errors.Is(err, enclave.ErrQueryNoKey):
		return http.StatusNotFound
	case errors.Is(err, enclave.ErrQueryUndecryptable), errors.Is(err, enclave.ErrQueryMalformed):
		return http.StatusBadRequest
	case errors.Is(err, enclave.ErrQueryExpired):
		return http.StatusGone
	case errors.Is(err, enclave.ErrQueryReplayed):
		return http.StatusConflict
	case errors.Is(err, enclave.ErrQuerySignature):
		return http.StatusForbidden
	case errors.Is(err, enclave.ErrQueryRate):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrContractBusy):
		return http.StatusServiceUnavailable
	}
	return statusOf(err)
}

func writeQueryError(w http.ResponseWriter, err error) {
	e := wireError(err)
	writeJSON(w, queryStatus(err), map[string]any{"module": e.Module, "code": e.Code, "message": e.Message})
}
