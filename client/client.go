// Package client is the Go client of a phala node: it reads state through
// ABCI queries, builds and signs transactions, submits them and waits for
// their inclusion, all over CometBFT's RPC. The CLI and the end-to-end tests
// use it the way a wallet would.
package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/token"
)

// DefaultNode is the RPC address of a local devnet.
const DefaultNode = "http://127.0.0.1:26657"

// Client talks to one node.
type Client struct {
	rpc     *cometrpc.Client
	url     string
	chainID string

	sessions sessionCache // query sessions with workers (session.go)
}

// New connects lazily to the node at url.
func New(url string) (*Client, error) {
	rpc, err := cometrpc.New(url)
	if err != nil {
		return nil, err
	}
	return &Client{rpc: rpc, url: url}, nil
}

// URL is the node's address.
func (c *Client) URL() string { return c.url }

// Status is the node's view of the chain.
func (c *Client) Status(ctx context.Context) (*cometrpc.Status, error) {
	st, err := c.rpc.Status(ctx)
	if err != nil {
		return nil, c.unreachable(err)
	}
	return st, nil
}

func (c *Client) unreachable(err error) error {
	return fmt.Errorf("node %s did not answer (is it running?): %w", c.url, err)
}

// ChainID asks the node once and remembers.
func (c *Client) ChainID(ctx context.Context) (string, error) {
	if c.chainID != "" {
		return c.chainID, nil
	}
	st, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	c.chainID = st.NodeInfo.Network
	return c.chainID, nil
}

// Query runs an ABCI query and decodes its CBOR answer into out. Errors come
// back with their module and code (see package errs).
func (c *Client) Query(ctx context.Context, path string, data []byte, out any) error {
	res, err := c.rpc.ABCIQuery(ctx, path, data)
	if err != nil {
		return c.unreachable(err)
	}
	r := res
	if r.Code != 0 {
		return errs.FromWire(r.Codespace, r.Code, r.Log)
	}
	return codec.Unmarshal(r.Value, out)
}

// Account reads an account (an absent one reads as zero, Exists false).
func (c *Client) Account(ctx context.Context, a address.Address) (bankapi.AccountInfo, error) {
	var info bankapi.AccountInfo
	err := c.Query(ctx, bankapi.QueryAccount, a[:], &info)
	return info, err
}

// Supply reads the total supply and the module pools.
func (c *Client) Supply(ctx context.Context) (bankapi.SupplyInfo, error) {
	var s bankapi.SupplyInfo
	err := c.Query(ctx, bankapi.QuerySupply, nil, &s)
	return s, err
}

// Params reads the fee rules.
func (c *Client) Params(ctx context.Context) (bankapi.Params, error) {
	var p bankapi.Params
	err := c.Query(ctx, bankapi.QueryParams, nil, &p)
	return p, err
}

// Submitted is a transaction the mempool accepted.
type Submitted struct {
	Hash [32]byte
}

// Broadcast submits a signed transaction and returns once the node's mempool
// accepted it; a refusal comes back as a coded error.
func (c *Client) Broadcast(ctx context.Context, raw []byte) (Submitted, error) {
	res, err := c.rpc.BroadcastTxSync(ctx, raw)
	if rpcErr, ok := errors.AsType[*cometrpc.RPCError](err); ok {
		if strings.Contains(rpcErr.Data, "already exists in cache") {
			return Submitted{Hash: tx.Hash(raw)}, nil
		}
		if refused, ok := refusedByMempool(rpcErr.Data); ok {
			return Submitted{}, refused
		}
	}
	if err != nil {
		return Submitted{}, c.unreachable(err)
	}
	if res.Code != 0 {
		return Submitted{}, errs.FromWire(res.Codespace, res.Code, res.Log)
	}
	return Submitted{Hash: tx.Hash(raw)}, nil
}

// mempoolRefusal matches the error text CometBFT's RPC returns when CheckTx
// refuses a transaction (it reports the result code inside an RPC error).
var mempoolRefusal = regexp.MustCompile(`is invalid: code=(\d+), data=[0-9A-Fa-f]*, log='(.*)', codespace='([^']*)'`)

// refusedByMempool rebuilds the coded error of a refused transaction from
// the node's error text.
func refusedByMempool(text string) (error, bool) {
	m := mempoolRefusal.FindStringSubmatch(text)
	if m == nil {
		return nil, false
	}
	code, perr := strconv.ParseUint(m[1], 10, 32)
	if perr != nil || code == 0 {
		return nil, false
	}
	return errs.FromWire(m[3], uint32(code), m[2]), true
}

// Included is a transaction in a committed block.
type Included struct {
	Hash   [32]byte
	Height int64
	Result *cometrpc.Tx
}

// Err is the transaction's execution error, if it failed in its block; nil
// for the zero Included that comes with a send's error.
func (i Included) Err() error {
	if i.Result == nil {
		return nil
	}
	r := i.Result.TxResult
	return errs.FromWire(r.Codespace, r.Code, r.Log)
}

// WaitTx polls until the transaction is in a committed block or ctx ends.
// A node that stops answering (restarting, say) is polled again until the
// deadline; the error then names the hash, so the caller can look it up.
func (c *Client) WaitTx(ctx context.Context, hash [32]byte) (Included, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		res, err := c.rpc.Tx(ctx, hash[:])
		if err == nil {
			return Included{Hash: hash, Height: res.Height, Result: res}, nil
		}
		if !notFound(err) {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return Included{}, fmt.Errorf("transaction %X was accepted but its block was not seen (look it up with `query tx`): %w", hash, c.unreachable(lastErr))
			}
			return Included{}, fmt.Errorf("transaction %X was accepted but not committed in time: %w", hash, ctx.Err())
		case <-tick.C:
		}
	}
}

// Tx looks up a committed transaction by hash.
func (c *Client) Tx(ctx context.Context, hash []byte) (*cometrpc.Tx, error) {
	res, err := c.rpc.Tx(ctx, hash)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("transaction %X not found", hash)
		}
		return nil, c.unreachable(err)
	}
	return res, nil
}

// notFound reports whether the node said it has no such thing.
func notFound(err error) bool {
	rpcErr, ok := errors.AsType[*cometrpc.RPCError](err)
	return ok && rpcErr.NotFound()
}

// Block fetches a block; nil height is the latest.
func (c *Client) Block(ctx context.Context, height *int64) (*cometrpc.BlockResult, error) {
	var h int64
	if height != nil {
		h = *height
	}
	res, err := c.rpc.Block(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("block: %w", err)
	}
	return res, nil
}

// SendOptions tune a transaction; zero values pick working defaults.
type SendOptions struct {
	Fee      token.Amount // zero: the minimum fee for the transaction's size
	GasLimit uint64       // zero: DefaultGasLimit
	Nonce    *uint64      // nil: the account's next nonce from the node
}

// DefaultGasLimit covers every current method.
const DefaultGasLimit = 100_000

// Sign builds and signs a transaction of method with body from key.
func (c *Client) Sign(ctx context.Context, key ed25519.PrivateKey, method string, body any, o SendOptions) ([]byte, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	nonce, err := c.nonce(ctx, pub, o.Nonce)
	if err != nil {
		return nil, err
	}
	if o.GasLimit == 0 {
		o.GasLimit = DefaultGasLimit
	}
	build := func(fee token.Amount) ([]byte, error) {
		env, err := tx.New(chainID, pub, nonce, fee, o.GasLimit, method, body)
		if err != nil {
			return nil, err
		}
		return env.Sign(key)
	}
	if !o.Fee.IsZero() {
		return build(o.Fee)
	}
	return c.buildWithMinFee(ctx, build)
}

// buildWithMinFee sizes the transaction with a placeholder fee of the
// largest encoding, then pays the minimum for that size.
func (c *Client) buildWithMinFee(ctx context.Context, build func(token.Amount) ([]byte, error)) ([]byte, error) {
	p, err := c.Params(ctx)
	if err != nil {
		return nil, err
	}
	probe, err := build(bankapi.TotalSupply)
	if err != nil {
		return nil, err
	}
	fee, err := p.Fee(len(probe))
	if err != nil {
		return nil, err
	}
	return build(fee)
}

func (c *Client) nonce(ctx context.Context, pub ed25519.PublicKey, given *uint64) (uint64, error) {
	if given != nil {
		return *given, nil
	}
	acc, err := c.Account(ctx, address.FromPublicKey(pub))
	if err != nil {
		return 0, err
	}
	if !acc.Exists {
		return 0, errors.New("the sending account does not exist on chain (fund it first)")
	}
	return acc.Nonce, nil
}

// Transfer sends amount to to and waits until a block includes it.
func (c *Client) Transfer(ctx context.Context, key ed25519.PrivateKey, to address.Address, amount token.Amount, o SendOptions) (Included, error) {
	raw, err := c.Sign(ctx, key, bankapi.MethodTransfer, bankapi.Transfer{To: to, Amount: amount}, o)
	if err != nil {
		return Included{}, err
	}
	return c.SubmitAndWait(ctx, raw)
}

// SubmitAndWait broadcasts and waits for inclusion; a transaction that fails
// in its block is returned with its error.
func (c *Client) SubmitAndWait(ctx context.Context, raw []byte) (Included, error) {
	sub, err := c.Broadcast(ctx, raw)
	if err != nil {
		return Included{}, err
	}
	inc, err := c.WaitTx(ctx, sub.Hash)
	if err != nil {
		return inc, err
	}
	return inc, inc.Err()
}
