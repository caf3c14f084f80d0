package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/workerwire"
)

// EventsServer is implemented by runtimes that run contracts: the public
// API then serves the events addressed to an account, to that account.
type EventsServer interface {
	Events(req workerwire.EventsRequest) (workerwire.SignedEventsReply, error)
}

// eventsHandler serves POST /v1/events: a request signed by an account
// for the events addressed to it, answered sealed to its reply key.
// Refusals are the queries' (queryStatus): 400 malformed, 403 badly
// signed, 409 replayed, 410 expired, 429 too fast.
func eventsHandler(rt Runtime) http.HandlerFunc {
	es, _ := rt.(EventsServer)
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
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, workerwire.MaxEventsBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writePublicError(w, ErrTooLarge.Wrapf("events request over %d bytes", workerwire.MaxEventsBody))
			return
		case err != nil:
			writePublicError(w, ErrBadBody.Wrapf("read: %v", err))
			return
		}
		var req workerwire.EventsRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writePublicError(w, ErrBadBody.Wrapf("events request: %v", err))
			return
		}
		if dec.More() {
			writePublicError(w, ErrBadBody.Wrapf("events request: data after the JSON object"))
			return
		}
		if es == nil {
			writeQueryError(w, enclave.ErrQueryUnknownContract.Wrapf("this runtime runs no contracts"))
			return
		}
		out, err := es.Events(req)
		if err != nil {
			writeQueryError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}
