package api

import (
	"net/http"

	"github.com/phala-go/phala/relaywire"
)

// NewRelayHandler serves the relay API over rt to requests carrying tok
// (see TokenFile); a zero tok refuses every request.
func NewRelayHandler(rt Runtime, tok Token) http.Handler {
	return requireToken(tok, relayMux(rt))
}

func relayMux(rt Runtime) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(relaywire.PathStatus, only(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) {
		writeCBOR(w, http.StatusOK, rt.Status())
	}))
	mux.HandleFunc(relaywire.PathEgress, only(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) {
		writeCBOR(w, http.StatusOK, rt.Outbox())
	}))
	mux.HandleFunc(relaywire.PathBlocks, only(http.MethodPost, func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r, MaxBatchBody)
		if err != nil {
			writeError(w, err)
			return
		}
		b, err := DecodeBatch(body)
		if err == nil {
			err = rt.Apply(b)
		}
		if err != nil {
			writeError(w, err)
			return
		}
		writeCBOR(w, http.StatusOK, rt.Status())
	}))
	mux.HandleFunc(relaywire.PathEvidence, only(http.MethodPost, func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r, MaxEvidenceBody)
		if err != nil {
			writeError(w, err)
			return
		}
		op, err := DecodeEvidenceRequest(body)
		if err != nil {
			writeError(w, err)
			return
		}
		ev, err := rt.Evidence(op)
		if err != nil {
			writeError(w, err)
			return
		}
		writeCBOR(w, http.StatusOK, ev)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, ErrNotFound.Wrapf("%s", r.URL.Path))
	})
	return mux
}

// only refuses every method but m.
func only(m string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m {
			w.Header().Set("Allow", m)
			writeError(w, ErrMethod.Wrapf("%s %s (allowed: %s)", r.Method, r.URL.Path, m))
			return
		}
		h(w, r)
	}
}
