package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/relaywire"
)

// Runtime is the worker runtime as the relay sees it: what it verified,
// blocks in, egress and registration evidence out. Answers come from an
// untrusted process over the network, so the relay checks what it relies on.
type Runtime interface {
	Status(ctx context.Context) (relaywire.Status, error)
	// Feed hands the runtime a batch; a refusal is a *Refused.
	Feed(ctx context.Context, b relaywire.Batch) (relaywire.Status, error)
	Outbox(ctx context.Context) (relaywire.Outbox, error)
	// Evidence asks for a quote binding the runtime's keys to operator.
	Evidence(ctx context.Context, operator address.Address) (relaywire.Evidence, error)
}

// Refused is the runtime's refusal of a request, with its module and code:
// the runtime answered, so retrying the same request will not help.
type Refused struct {
	Module  string
	Code    uint32
	Message string
}

func (r *Refused) Error() string {
	code := fmt.Sprintf("%s/%d", r.Module, r.Code)
	if strings.HasPrefix(r.Message, code) {
		return "runtime refused: " + r.Message
	}
	return "runtime refused: " + code + ": " + r.Message
}

// Unwrap gives the registered error kind, so errors.Is matches it.
func (r *Refused) Unwrap() error { return errs.FromWire(r.Module, r.Code, r.Message) }

// maxAnswer bounds a runtime answer; an outbox of signed egress is small.
const maxAnswer = 64 << 20

// HTTPRuntime speaks relaywire to a runtime's HTTP API.
type HTTPRuntime struct {
	base  string
	token string // the relay API's secret; never logged
	hc    *http.Client
}

// NewHTTPRuntime talks to the runtime whose API is at base (http://host:port),
// authenticating with token (the content of the runtime's
// relaywire.TokenFile; see ReadToken).
func NewHTTPRuntime(base, token string) *HTTPRuntime {
	return &HTTPRuntime{base: strings.TrimRight(base, "/"), token: strings.TrimSpace(token), hc: &http.Client{Timeout: 5 * time.Minute}}
}

// ReadToken reads a runtime's relay API token file. Errors name the file,
// never its content.
func ReadToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", ErrConfig.Wrapf("runtime token: %v", err)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", ErrConfig.Wrapf("runtime token file %s is empty", path)
	}
	return tok, nil
}

// Status implements Runtime.
func (h *HTTPRuntime) Status(ctx context.Context) (relaywire.Status, error) {
	var st relaywire.Status
	return st, h.call(ctx, http.MethodGet, relaywire.PathStatus, nil, &st)
}

// Feed implements Runtime.
func (h *HTTPRuntime) Feed(ctx context.Context, b relaywire.Batch) (relaywire.Status, error) {
	var st relaywire.Status
	return st, h.call(ctx, http.MethodPost, relaywire.PathBlocks, b, &st)
}

// Outbox implements Runtime.
func (h *HTTPRuntime) Outbox(ctx context.Context) (relaywire.Outbox, error) {
	var o relaywire.Outbox
	return o, h.call(ctx, http.MethodGet, relaywire.PathEgress, nil, &o)
}

// Evidence implements Runtime.
func (h *HTTPRuntime) Evidence(ctx context.Context, operator address.Address) (relaywire.Evidence, error) {
	var ev relaywire.Evidence
	req := relaywire.EvidenceRequest{Version: relaywire.Version, Operator: operator[:]}
	return ev, h.call(ctx, http.MethodPost, relaywire.PathEvidence, req, &ev)
}

func (h *HTTPRuntime) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := codec.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, body)
	if err != nil {
		return ErrConfig.Wrapf("runtime %s: %v", h.base, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", relaywire.ContentType)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return fmt.Errorf("runtime %s did not answer: %w", h.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("runtime %s: reading %s: %w", h.base, path, err)
	}
	if len(raw) > maxAnswer {
		return ErrRuntimeAnswer.Wrapf("%s answer over %d bytes", path, maxAnswer)
	}
	return decodeAnswer(resp.StatusCode, path, raw, out)
}

// decodeAnswer reads a runtime answer: the value on success, a Refused for
// an error body, ErrRuntimeAnswer for anything else.
func decodeAnswer(status int, path string, raw []byte, out any) error {
	if status == http.StatusOK {
		if err := codec.Unmarshal(raw, out); err != nil {
			return ErrRuntimeAnswer.Wrapf("%s: %v", path, err)
		}
		return nil
	}
	var e relaywire.Error
	if err := codec.Unmarshal(raw, &e); err != nil || e.Code == 0 {
		return ErrRuntimeAnswer.Wrapf("%s: HTTP %d without an error body", path, status)
	}
	return &Refused{Module: e.Module, Code: e.Code, Message: e.Message}
}

// refusal reports whether err is the runtime's refusal, and its kind.
func refusal(err error) (*Refused, bool) {
	var r *Refused
	ok := errors.As(err, &r)
	return r, ok
}
