// Package api is the worker runtime's HTTP side: the relay API (the only
// way blocks get in and egress gets out, canonical CBOR per package
// relaywire) and the public API (JSON status and attestation). The relay
// API's Go client is the relay's own (relay.HTTPRuntime).
//
// Everything a request carries comes from an untrusted host: bodies are
// size-limited and decoded strictly before the runtime sees them, and every
// refusal is a relaywire.Error with the error's module and stable code.
package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/worker/enclave"
)

// Module is the errs module of this package's errors.
const Module = "workerapi"

// Errors of the API layer. Codes are stable.
var (
	ErrBadBody     = errs.Register(Module, 1, "request body does not decode")
	ErrTooLarge    = errs.Register(Module, 2, "request body too large")
	ErrMethod      = errs.Register(Module, 3, "method not allowed")
	ErrContentType = errs.Register(Module, 4, "unsupported content type")
	ErrNotFound    = errs.Register(Module, 5, "no such path")
	// Codes 6 and 7 belonged to a client of this API now in package relay.
	ErrNotLoopback  = errs.Register(Module, 8, "listen address is not loopback")
	ErrListenFailed = errs.Register(Module, 9, "cannot listen")
	// ErrUnauthorized: a relay API request without the runtime's token.
	ErrUnauthorized = errs.Register(Module, 10, "relay API token missing or wrong")
	// ErrToken: the token file cannot be created or read.
	ErrToken = errs.Register(Module, 11, "relay API token unavailable")
)

// Runtime is what the servers need of the worker runtime.
type Runtime interface {
	Status() relaywire.Status
	Apply(relaywire.Batch) error
	Outbox() relaywire.Outbox
	Evidence(operator address.Address) (relaywire.Evidence, error)
	LastEvidence() (relaywire.Evidence, bool)
}

// DecodeBatch decodes the body of PathBlocks strictly.
func DecodeBatch(body []byte) (relaywire.Batch, error) {
	var b relaywire.Batch
	if err := codec.Unmarshal(body, &b); err != nil {
		return relaywire.Batch{}, ErrBadBody.Wrapf("batch: %v", err)
	}
	if b.Version != relaywire.Version {
		return relaywire.Batch{}, ErrBadBody.Wrapf("batch version %d, want %d", b.Version, relaywire.Version)
	}
	return b, nil
}

// DecodeEvidenceRequest decodes the body of PathEvidence strictly.
func DecodeEvidenceRequest(body []byte) (address.Address, error) {
	var r relaywire.EvidenceRequest
	if err := codec.Unmarshal(body, &r); err != nil {
		return address.Address{}, ErrBadBody.Wrapf("evidence request: %v", err)
	}
	if r.Version != relaywire.Version {
		return address.Address{}, ErrBadBody.Wrapf("evidence request version %d, want %d", r.Version, relaywire.Version)
	}
	op, err := address.FromBytes(r.Operator)
	if err != nil {
		return address.Address{}, ErrBadBody.Wrapf("operator: %v", err)
	}
	return op, nil
}

// readBody reads at most limit bytes of a request body.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != relaywire.ContentType {
		return nil, ErrContentType.Wrapf("%q, want %q", ct, relaywire.ContentType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, ErrTooLarge.Wrapf("over %d bytes", limit)
	case err != nil:
		return nil, ErrBadBody.Wrapf("read: %v", err)
	}
	return body, nil
}

// statusOf maps an error kind to an HTTP status: the caller's mistakes and
// refused input are 4xx; only the runtime's own failures are 5xx.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrContentType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNoReceipt):
		return http.StatusNotFound
	case errors.Is(err, ErrBadBody), errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, enclave.ErrOperator), errors.Is(err, enclave.ErrNoOperator):
		return http.StatusForbidden
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Is(errs.ErrInternal) {
		return http.StatusInternalServerError
	}
	if errors.Is(err, enclave.ErrPlatform) || errors.Is(err, enclave.ErrClosed) {
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// writeCBOR answers v in canonical CBOR.
func writeCBOR(w http.ResponseWriter, status int, v any) {
	body, err := codec.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, codec.MustMarshal(wireError(fmt.Errorf("%w: encode response: %v", errs.ErrInternal, err)))
	}
	w.Header().Set("Content-Type", relaywire.ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away: nothing to do
}

func writeError(w http.ResponseWriter, err error) {
	writeCBOR(w, statusOf(err), wireError(err))
}

func wireError(err error) relaywire.Error {
	mod, code := errs.Code(err)
	return relaywire.Error{Module: mod, Code: code, Message: err.Error()}
}
