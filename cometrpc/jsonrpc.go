package cometrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Request is one call, sent alone or in a batch by Do. Its answer is
// decoded into the value its constructor was given, once Do returns nil.
type Request struct {
	method string
	params map[string]any
	decode func(result []byte) error
}

// wireRequest is a JSON-RPC 2.0 request; the id is the call's place in
// its batch.
type wireRequest struct {
	JSONRPC string         `json:"jsonrpc"`
	ID      int            `json:"id"`
	Method  string         `json:"method"`
	Params  map[string]any `json:"params"`
}

// wireAnswer is a JSON-RPC 2.0 response: a result or an error.
type wireAnswer struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *RPCError       `json:"error"`
}

// Do sends reqs, in one JSON-RPC batch if there are several, and decodes
// each answer into its request's target. It returns the first failure in
// request order: a node's refusal of one call is an *RPCError (kind
// ErrRPC) naming the method.
func (c *Client) Do(ctx context.Context, reqs ...Request) error {
	if len(reqs) == 0 {
		return nil
	}
	body, err := encodeRequests(reqs)
	if err != nil {
		return err
	}
	status, raw, err := c.post(ctx, body)
	if err != nil {
		return err
	}
	answers, err := decodeAnswers(raw, len(reqs))
	if err != nil {
		if status != http.StatusOK && !errors.Is(err, ErrRPC) {
			return ErrUnreachable.Wrapf("%s: HTTP %d", c.endpoint, status)
		}
		return err
	}
	for i, r := range reqs {
		if err := answers[i].into(r); err != nil {
			return err
		}
	}
	return nil
}

func encodeRequests(reqs []Request) ([]byte, error) {
	wire := make([]wireRequest, len(reqs))
	for i, r := range reqs {
		wire[i] = wireRequest{JSONRPC: "2.0", ID: i, Method: r.method, Params: r.params}
	}
	if len(wire) == 1 {
		return json.Marshal(wire[0])
	}
	return json.Marshal(wire)
}

// post sends one HTTP request and reads at most maxAnswer bytes back.
func (c *Client) post(ctx context.Context, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, ErrConfig.Wrapf("%s: %v", c.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, c.endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxAnswer+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s: reading the answer: %w", ErrUnreachable, c.endpoint, err)
	}
	if int64(len(raw)) > c.maxAnswer {
		return 0, nil, ErrTooLarge.Wrapf("%s: over %d bytes", c.endpoint, c.maxAnswer)
	}
	return resp.StatusCode, raw, nil
}

// decodeAnswers reads the answers to n calls, in call order. A single
// error object in answer to a batch is the node refusing the whole batch.
func decodeAnswers(raw []byte, n int) ([]wireAnswer, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var a wireAnswer
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, ErrMalformed.Wrapf("JSON-RPC answer: %v", err)
		}
		if n > 1 && a.Error != nil {
			return nil, fmt.Errorf("batch of %d calls: %w", n, a.Error)
		}
		return placeAnswers([]wireAnswer{a}, n)
	}
	var as []wireAnswer
	if err := json.Unmarshal(raw, &as); err != nil {
		return nil, ErrMalformed.Wrapf("JSON-RPC answer: %v", err)
	}
	return placeAnswers(as, n)
}

// placeAnswers orders answers by id and checks there is one per call.
func placeAnswers(as []wireAnswer, n int) ([]wireAnswer, error) {
	if len(as) != n {
		return nil, ErrMalformed.Wrapf("%d answers to %d calls", len(as), n)
	}
	out := make([]wireAnswer, n)
	seen := make([]bool, n)
	for _, a := range as {
		if a.JSONRPC != "2.0" {
			return nil, ErrMalformed.Wrapf("JSON-RPC version %q", a.JSONRPC)
		}
		id, err := strconv.Atoi(string(a.ID))
		if err != nil || id < 0 || id >= n || seen[id] {
			return nil, ErrMalformed.Wrapf("answer id %.20q matches no call", a.ID)
		}
		seen[id] = true
		out[id] = a
	}
	return out, nil
}

// into decodes an answer into its request's target.
func (a wireAnswer) into(r Request) error {
	if a.Error != nil {
		return fmt.Errorf("%s: %w", r.method, a.Error)
	}
	if len(a.Result) == 0 || string(a.Result) == "null" {
		return ErrMalformed.Wrapf("%s: answer without a result", r.method)
	}
	if err := r.decode(a.Result); err != nil {
		return ErrMalformed.Wrapf("%s: %v", r.method, err)
	}
	return nil
}
