package relay

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/relaywire"
)

// DefaultBatchSize is how many headers one batch carries at most.
const DefaultBatchSize = 500

// DefaultWorkers bounds the node requests one batch has in flight.
const DefaultWorkers = 16

// headersPerCall is what CometBFT's blockchain RPC answers at most.
const headersPerCall = 20

// validatorsPerPage is the largest page CometBFT's validators RPC serves.
const validatorsPerPage = 100

// Source builds batches for a runtime from a CometBFT node's RPC. It holds
// no state of its own: every batch starts from the height the caller says
// the runtime verified.
type Source struct {
	rpc       *cometrpc.Client
	url       string
	batchSize int
	workers   int
	rpcBatch  int
	batcher   *rpcBatcher
}

// SourceOption tunes a Source.
type SourceOption func(*Source)

// WithBatchSize caps the headers of one batch (DefaultBatchSize if n <= 0).
func WithBatchSize(n int) SourceOption {
	return func(s *Source) {
		if n > 0 {
			s.batchSize = n
		}
	}
}

// WithWorkers bounds the node requests in flight (DefaultWorkers if n <= 0).
func WithWorkers(n int) SourceOption {
	return func(s *Source) {
		if n > 0 {
			s.workers = n
		}
	}
}

// WithRPCBatch sets how many calls share one JSON-RPC request (1: none);
// it must not exceed the node's rpc.max_request_batch_size.
func WithRPCBatch(n int) SourceOption {
	return func(s *Source) {
		if n > 0 {
			s.rpcBatch = n
		}
	}
}

// NewSource connects lazily to the node's RPC at url.
func NewSource(url string, opts ...SourceOption) (*Source, error) {
	s := &Source{url: url, batchSize: DefaultBatchSize, workers: DefaultWorkers, rpcBatch: DefaultRPCBatch}
	for _, o := range opts {
		o(s)
	}
	s.batcher = &rpcBatcher{s: s}
	s.batcher.per.Store(int32(s.rpcBatch))
	// Keep a connection per worker alive: the default of two idle
	// connections would make parallel queries reconnect every time.
	rpc, err := cometrpc.New(url, cometrpc.WithIdleConns(s.workers), cometrpc.WithTimeout(30*time.Second))
	if err != nil {
		return nil, ErrConfig.Wrapf("node %s: %v", url, err)
	}
	s.rpc = rpc
	return s, nil
}

// Reconnect drops kept-alive connections, so the next request dials the
// node again: after a failure the node may have restarted, and a
// connection to its old incarnation could outlive it.
func (s *Source) Reconnect() { s.rpc.CloseIdleConnections() }

// URL is the node's address.
func (s *Source) URL() string { return s.url }

// BatchSize is the most headers a batch carries.
func (s *Source) BatchSize() int { return s.batchSize }

// Head is the node's chain and newest committed height.
type Head struct {
	ChainID string
	Height  int64
}

// Head asks the node for its chain and newest height.
func (s *Source) Head(ctx context.Context) (Head, error) {
	st, err := s.rpc.Status(ctx)
	if err != nil {
		return Head{}, s.unreachable(err)
	}
	return Head{ChainID: st.NodeInfo.Network, Height: st.SyncInfo.LatestBlockHeight}, nil
}

func (s *Source) unreachable(err error) error {
	return fmt.Errorf("node %s did not answer: %w", s.url, err)
}

// Batch builds the batch that follows a runtime at verified height: the
// headers verified+1..K with K <= latest and at most BatchSize of them,
// ending early at the first header that changes the validator set, each
// with its parent's digest, closed by a commit for header K. It returns
// ErrNothingNew when verified >= latest.
func (s *Source) Batch(ctx context.Context, verified, latest int64) (relaywire.Batch, error) {
	if verified < 0 || verified >= latest {
		return relaywire.Batch{}, ErrNothingNew.Wrapf("runtime at %d, chain at %d", verified, latest)
	}
	to := min(latest, verified+int64(s.batchSize))
	headers, err := s.headers(ctx, verified+1, to)
	if err != nil {
		return relaywire.Batch{}, err
	}
	headers = untilValidatorChange(headers)
	last := headers[len(headers)-1]
	b := relaywire.Batch{Version: relaywire.Version, Blocks: make([]relaywire.Block, len(headers))}
	if err := s.fillBlocks(ctx, headers, b.Blocks); err != nil {
		return relaywire.Batch{}, err
	}
	if b.Commit, err = s.commit(ctx, last); err != nil {
		return relaywire.Batch{}, err
	}
	if !bytes.Equal(last.NextValidatorsHash, last.ValidatorsHash) {
		if b.NextValidators, err = s.validators(ctx, last.Height+1, last.NextValidatorsHash); err != nil {
			return relaywire.Batch{}, err
		}
	}
	return b, nil
}

// untilValidatorChange cuts headers after the first one whose next
// validator set differs: the runtime must learn that set before it can
// check anything signed by it.
func untilValidatorChange(hs []cometrpc.Header) []cometrpc.Header {
	for i, h := range hs {
		if !bytes.Equal(h.NextValidatorsHash, h.ValidatorsHash) {
			return hs[:i+1]
		}
	}
	return hs
}

// headers fetches from..to in calls of headersPerCall, batched and in
// parallel, and checks they are the consecutive, hash-linked headers asked
// for.
func (s *Source) headers(ctx context.Context, from, to int64) ([]cometrpc.Header, error) {
	n := int(to - from + 1)
	out := make([]cometrpc.Header, n)
	ids := make([]cometrpc.BlockID, n)
	calls := (n + headersPerCall - 1) / headersPerCall
	err := s.batcher.run(ctx, calls, func(i int) (cometrpc.Request, func() error, error) {
		lo := from + int64(i*headersPerCall)
		hi := min(to, lo+headersPerCall-1)
		res := new(cometrpc.Blockchain)
		check := func() error { return placeMetas(res.BlockMetas, lo, hi, from, out, ids) }
		return cometrpc.BlockchainRequest(lo, hi, res), check, nil
	})
	if err != nil {
		return nil, err
	}
	return out, checkLinked(out, ids, from)
}

// placeMetas puts the answer for headers lo..hi in its slots.
func placeMetas(metas []cometrpc.BlockMeta, lo, hi, from int64, out []cometrpc.Header, ids []cometrpc.BlockID) error {
	if len(metas) != int(hi-lo+1) {
		return ErrNodeAnswer.Wrapf("asked headers %d..%d, got %d", lo, hi, len(metas))
	}
	for _, m := range metas {
		if m.Header.Height < lo || m.Header.Height > hi {
			return ErrNodeAnswer.Wrapf("asked headers %d..%d, got another height", lo, hi)
		}
		out[m.Header.Height-from] = m.Header
		ids[m.Header.Height-from] = m.BlockID
	}
	return nil
}

// checkLinked catches a node that answers inconsistent headers before the
// runtime refuses them, so the log names the node rather than the runtime.
func checkLinked(hs []cometrpc.Header, ids []cometrpc.BlockID, from int64) error {
	for i := range hs {
		if hs[i].Height != from+int64(i) {
			return ErrNodeAnswer.Wrapf("header %d missing", from+int64(i))
		}
		if len(ids[i].Hash) == 0 || !bytes.Equal(hs[i].Hash(), ids[i].Hash) {
			return ErrNodeAnswer.Wrapf("header %d does not hash to its block id", hs[i].Height)
		}
		if i > 0 && !bytes.Equal(hs[i].LastBlockID.Hash, ids[i-1].Hash) {
			return ErrNodeAnswer.Wrapf("header %d does not link to header %d", hs[i].Height, hs[i-1].Height)
		}
	}
	return nil
}

// fillBlocks encodes each header and fetches its parent's digest.
func (s *Source) fillBlocks(ctx context.Context, hs []cometrpc.Header, out []relaywire.Block) error {
	for i := range hs {
		raw, err := hs[i].Proto().Marshal()
		if err != nil {
			return ErrNodeAnswer.Wrapf("encode header %d: %v", hs[i].Height, err)
		}
		out[i].Header = raw
	}
	first := 0
	if hs[0].Height == 1 {
		first = 1 // header 1's parent is the genesis state: no digest
	}
	return s.batcher.run(ctx, len(hs)-first, func(i int) (cometrpc.Request, func() error, error) {
		i += first
		return digestRequest(hs[i].Height-1, &out[i].Parent)
	})
}

// commit fetches a commit for header h and checks it signs that header.
func (s *Source) commit(ctx context.Context, h cometrpc.Header) ([]byte, error) {
	height := h.Height
	res, err := s.rpc.Commit(ctx, height)
	if err != nil {
		return nil, s.unreachable(err)
	}
	c := &res.SignedHeader.Commit
	if c.Height != height || !bytes.Equal(c.BlockID.Hash, h.Hash()) {
		return nil, ErrNodeAnswer.Wrapf("commit for header %d does not sign it", height)
	}
	raw, err := c.Proto().Marshal()
	if err != nil {
		return nil, ErrNodeAnswer.Wrapf("encode commit %d: %v", height, err)
	}
	return raw, nil
}

// validators fetches the validator set of height, page by page, and checks
// it hashes to want.
func (s *Source) validators(ctx context.Context, height int64, want []byte) ([]byte, error) {
	vals, err := s.validatorList(ctx, height)
	if err != nil {
		return nil, err
	}
	set, err := cometrpc.NewValidatorSet(vals)
	if err != nil {
		return nil, ErrNodeAnswer.Wrapf("validator set of height %d: %v", height, err)
	}
	if !bytes.Equal(set.Hash(), want) {
		return nil, ErrNodeAnswer.Wrapf("validator set of height %d does not match its hash", height)
	}
	raw, err := set.Proto().Marshal()
	if err != nil {
		return nil, ErrNodeAnswer.Wrapf("encode validator set %d: %v", height, err)
	}
	return raw, nil
}

// maxValidators bounds the set the relay collects page by page, so a node
// that claims an endless total cannot keep it asking.
const maxValidators = 10_000

// validatorList collects height's validator set page by page.
func (s *Source) validatorList(ctx context.Context, height int64) ([]cometrpc.Validator, error) {
	var vals []cometrpc.Validator
	for page := 1; ; page++ {
		res, err := s.rpc.Validators(ctx, height, page, validatorsPerPage)
		if err != nil {
			return nil, s.unreachable(err)
		}
		vals = append(vals, res.Validators...)
		if len(vals) > maxValidators {
			return nil, ErrNodeAnswer.Wrapf("validator set of height %d has over %d members", height, maxValidators)
		}
		if len(res.Validators) == 0 || len(vals) >= res.Total {
			return vals, nil
		}
	}
}

// parallel runs f(0..n-1) on at most workers goroutines and returns the
// first error; the others are cancelled through ctx.
func parallel(ctx context.Context, workers, n int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
