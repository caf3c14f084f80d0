package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/relaywire"
)

// maxResponse bounds what the client reads from a runtime.
const maxResponse = 64 << 20

// RelayClient calls a runtime's relay API. Refusals come back as errors
// rebuilt from their module and code, so errors.Is matches the runtime's
// (and light client's) error kinds.
type RelayClient struct {
	// BaseURL is the relay API's URL, e.g. http://127.0.0.1:41234.
	BaseURL string
	// HTTP is the client to use (nil: http.DefaultClient).
	HTTP *http.Client
}

// Status asks the runtime where it is.
func (c *RelayClient) Status(ctx context.Context) (relaywire.Status, error) {
	var s relaywire.Status
	err := c.do(ctx, http.MethodGet, relaywire.PathStatus, nil, &s)
	return s, err
}

// Feed hands the runtime a batch of blocks and returns its status after.
func (c *RelayClient) Feed(ctx context.Context, b relaywire.Batch) (relaywire.Status, error) {
	var s relaywire.Status
	err := c.do(ctx, http.MethodPost, relaywire.PathBlocks, b, &s)
	return s, err
}

// Outbox returns the runtime's unconfirmed egress.
func (c *RelayClient) Outbox(ctx context.Context) (relaywire.Outbox, error) {
	var o relaywire.Outbox
	err := c.do(ctx, http.MethodGet, relaywire.PathEgress, nil, &o)
	return o, err
}

// Evidence asks for a quote binding the runtime's keys to operator.
func (c *RelayClient) Evidence(ctx context.Context, operator address.Address) (relaywire.Evidence, error) {
	var e relaywire.Evidence
	req := relaywire.EvidenceRequest{Version: relaywire.Version, Operator: operator.Bytes()}
	err := c.do(ctx, http.MethodPost, relaywire.PathEvidence, req, &e)
	return e, err
}

func (c *RelayClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := codec.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return ErrUnreachable.Wrapf("%v", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", relaywire.ContentType)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ErrUnreachable.Wrapf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil || len(raw) > maxResponse {
		return ErrBadResponse.Wrapf("%s %s: read (%d bytes): %v", method, path, len(raw), err)
	}
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp.StatusCode, raw)
	}
	if err := codec.Unmarshal(raw, out); err != nil {
		return ErrBadResponse.Wrapf("%s %s: %v", method, path, err)
	}
	return nil
}

// decodeError rebuilds the runtime's error from a refusal's body.
func decodeError(status int, raw []byte) error {
	var e relaywire.Error
	if err := codec.Unmarshal(raw, &e); err != nil || e.Code == 0 {
		return ErrBadResponse.Wrapf("HTTP %d with an undecodable error body", status)
	}
	return errs.FromWire(e.Module, e.Code, e.Message)
}

// IsRefused reports whether err is the runtime refusing input (as opposed
// to the runtime being unreachable or broken).
func IsRefused(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrBadResponse) && !errors.Is(err, errs.ErrInternal)
}
