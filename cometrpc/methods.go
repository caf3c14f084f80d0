package cometrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// The calls. Each has a Request constructor, for batches, and a method
// that sends it alone. Heights and pages go as decimal strings and byte
// strings as base64, except abci_query's data, which CometBFT reads as
// hex.

// StatusRequest asks for the node's status.
func StatusRequest(out *Status) Request {
	return request("status", nil, out, DecodeStatus)
}

// Status asks for the node's status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var out Status
	return &out, c.Do(ctx, StatusRequest(&out))
}

// ABCIQueryRequest runs an application query at the newest height,
// without a proof.
func ABCIQueryRequest(path string, data []byte, out *QueryResponse) Request {
	return ABCIQueryAtRequest(path, data, 0, false, out)
}

// ABCIQueryAtRequest runs an application query at height (0: the newest),
// asking for a proof of the answer if prove is set.
func ABCIQueryAtRequest(path string, data []byte, height int64, prove bool, out *QueryResponse) Request {
	params := map[string]any{"path": path, "data": HexBytes(data).String(), "height": strconv.FormatInt(height, 10), "prove": prove}
	return request("abci_query", params, out, DecodeABCIQuery)
}

// ABCIQuery runs an application query; a refusal by the application is
// a QueryResponse with a non-zero Code, not an error.
func (c *Client) ABCIQuery(ctx context.Context, path string, data []byte) (*QueryResponse, error) {
	var out QueryResponse
	return &out, c.Do(ctx, ABCIQueryRequest(path, data, &out))
}

// ABCIQueryAt runs an application query at height (0: the newest), with
// a proof if prove is set. What the proof proves is not checked here: the
// caller verifies it against a header it trusts.
func (c *Client) ABCIQueryAt(ctx context.Context, path string, data []byte, height int64, prove bool) (*QueryResponse, error) {
	var out QueryResponse
	return &out, c.Do(ctx, ABCIQueryAtRequest(path, data, height, prove, &out))
}

// BroadcastTxSync submits a transaction and returns the mempool's verdict.
// CometBFT answers a transaction CheckTx refused with an *RPCError, not a
// result with a non-zero code.
func (c *Client) BroadcastTxSync(ctx context.Context, tx []byte) (*BroadcastResult, error) {
	var out BroadcastResult
	return &out, c.Do(ctx, request("broadcast_tx_sync", map[string]any{"tx": tx}, &out, DecodeBroadcast))
}

// Tx looks up a committed transaction by hash; an unknown hash is an
// *RPCError whose NotFound is true.
func (c *Client) Tx(ctx context.Context, hash []byte) (*Tx, error) {
	var out Tx
	return &out, c.Do(ctx, request("tx", map[string]any{"hash": hash, "prove": false}, &out, DecodeTx))
}

// Block fetches the block at height; 0 is the newest.
func (c *Client) Block(ctx context.Context, height int64) (*BlockResult, error) {
	var out BlockResult
	return &out, c.Do(ctx, request("block", heightParams(height), &out, DecodeBlock))
}

// Commit fetches the commit of the block at height; 0 is the newest.
func (c *Client) Commit(ctx context.Context, height int64) (*CommitResult, error) {
	var out CommitResult
	return &out, c.Do(ctx, request("commit", heightParams(height), &out, DecodeCommit))
}

// Validators fetches one page (from 1) of height's validator set, of at
// most perPage (CometBFT serves 100 at most).
func (c *Client) Validators(ctx context.Context, height int64, page, perPage int) (*Validators, error) {
	params := heightParams(height)
	params["page"] = strconv.Itoa(page)
	params["per_page"] = strconv.Itoa(perPage)
	var out Validators
	return &out, c.Do(ctx, request("validators", params, &out, DecodeValidators))
}

// BlockchainRequest asks for the headers minHeight..maxHeight (CometBFT
// answers 20 at most, newest first).
func BlockchainRequest(minHeight, maxHeight int64, out *Blockchain) Request {
	params := map[string]any{"minHeight": strconv.FormatInt(minHeight, 10), "maxHeight": strconv.FormatInt(maxHeight, 10)}
	return request("blockchain", params, out, DecodeBlockchain)
}

// Blockchain fetches the headers minHeight..maxHeight.
func (c *Client) Blockchain(ctx context.Context, minHeight, maxHeight int64) (*Blockchain, error) {
	var out Blockchain
	return &out, c.Do(ctx, BlockchainRequest(minHeight, maxHeight, &out))
}

// heightParams asks for height, leaving it out for the newest.
func heightParams(height int64) map[string]any {
	params := map[string]any{}
	if height != 0 {
		params["height"] = strconv.FormatInt(height, 10)
	}
	return params
}

// request makes a Request whose result decode fills *out.
func request[T any](method string, params map[string]any, out *T, decode func([]byte) (T, error)) Request {
	if params == nil {
		params = map[string]any{}
	}
	return Request{method: method, params: params, decode: func(raw []byte) error {
		v, err := decode(raw)
		if err != nil {
			return err
		}
		*out = v
		return nil
	}}
}

// decodeJSON reads one JSON value into a T and checks it.
func decodeJSON[T any](raw []byte, check func(*T) error) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, ErrMalformed.Wrapf("%v", err)
	}
	if err := check(&v); err != nil {
		var zero T
		return zero, ErrMalformed.Wrapf("%v", err)
	}
	return v, nil
}

// The Decode functions read a call's result (the "result" member of its
// JSON-RPC answer) and check what a decoder can: heights not negative,
// times a protobuf timestamp can hold, the shapes callers index into.

// DecodeStatus reads a status result.
func DecodeStatus(raw []byte) (Status, error) {
	return decodeJSON(raw, func(s *Status) error {
		si := &s.SyncInfo
		si.LatestBlockTime, si.EarliestBlockTime = si.LatestBlockTime.UTC(), si.EarliestBlockTime.UTC()
		if err := checkHeight("latest height", si.LatestBlockHeight); err != nil {
			return err
		}
		return checkHeight("earliest height", si.EarliestBlockHeight)
	})
}

// queryResult is abci_query's result: the response in a wrapper.
type queryResult struct {
	Response QueryResponse `json:"response"`
}

// DecodeABCIQuery reads an abci_query result.
func DecodeABCIQuery(raw []byte) (QueryResponse, error) {
	q, err := decodeJSON(raw, func(q *queryResult) error {
		if err := checkHeight("query height", q.Response.Height); err != nil {
			return err
		}
		return q.Response.ProofOps.check()
	})
	return q.Response, err
}

// DecodeBroadcast reads a broadcast_tx_sync result.
func DecodeBroadcast(raw []byte) (BroadcastResult, error) {
	return decodeJSON(raw, func(*BroadcastResult) error { return nil })
}

// DecodeTx reads a tx result.
func DecodeTx(raw []byte) (Tx, error) {
	return decodeJSON(raw, func(t *Tx) error {
		if t.Height <= 0 {
			return fmt.Errorf("transaction at height %d", t.Height)
		}
		return nil
	})
}

// DecodeBlock reads a block result.
func DecodeBlock(raw []byte) (BlockResult, error) {
	return decodeJSON(raw, func(b *BlockResult) error {
		if err := b.Block.Header.check(); err != nil {
			return err
		}
		return b.Block.LastCommit.check()
	})
}

// DecodeCommit reads a commit result.
func DecodeCommit(raw []byte) (CommitResult, error) {
	return decodeJSON(raw, func(c *CommitResult) error {
		if err := c.SignedHeader.Header.check(); err != nil {
			return err
		}
		return c.SignedHeader.Commit.check()
	})
}

// DecodeValidators reads a validators result.
func DecodeValidators(raw []byte) (Validators, error) {
	return decodeJSON(raw, func(v *Validators) error {
		if v.Count != len(v.Validators) || v.Total < v.Count || v.Total < 0 {
			return fmt.Errorf("page of %d validators says count %d of %d", len(v.Validators), v.Count, v.Total)
		}
		return checkHeight("validator set height", v.BlockHeight)
	})
}

// DecodeBlockchain reads a blockchain result.
func DecodeBlockchain(raw []byte) (Blockchain, error) {
	return decodeJSON(raw, func(b *Blockchain) error {
		for i := range b.BlockMetas {
			if err := b.BlockMetas[i].Header.check(); err != nil {
				return fmt.Errorf("header %d: %v", i, err)
			}
		}
		return checkHeight("last height", b.LastHeight)
	})
}

// check normalizes the time to UTC and refuses what would not encode.
func (h *Header) check() error {
	h.Time = h.Time.UTC()
	if err := checkHeight("height", h.Height); err != nil {
		return err
	}
	return checkTime("header time", h.Time)
}

func (c *Commit) check() error {
	if err := checkHeight("commit height", c.Height); err != nil {
		return err
	}
	for i := range c.Signatures {
		s := &c.Signatures[i]
		s.Timestamp = s.Timestamp.UTC()
		if err := checkTime("signature time", s.Timestamp); err != nil {
			return err
		}
	}
	return nil
}
