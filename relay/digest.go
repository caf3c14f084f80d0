package relay

import (
	"context"
	"fmt"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
)

// Digest fetches block height's digest (state root and message list)
// from the node's application.
func (s *Source) Digest(ctx context.Context, height int64) (mq.Block, error) {
	var d mq.Block
	req, check, err := digestRequest(height, &d)
	if err != nil {
		return d, err
	}
	if err := s.rpc.Do(ctx, req); err != nil {
		return d, s.unreachable(err)
	}
	return d, check()
}

// digestRequest asks for block height's digest, to be decoded into out by
// the check it returns once the answer has arrived.
func digestRequest(height int64, out *mq.Block) (cometrpc.Request, func() error, error) {
	data, err := codec.Marshal(height)
	if err != nil {
		return cometrpc.Request{}, nil, err
	}
	res := new(cometrpc.QueryResponse)
	check := func() error {
		if res.Code != 0 {
			return fmt.Errorf("digest of block %d: %w", height, errs.FromWire(res.Codespace, res.Code, res.Log))
		}
		d, err := decodeDigest(res.Value, height)
		*out = d
		return err
	}
	return cometrpc.ABCIQueryRequest(chainapi.QueryBlock, data, res), check, nil
}

// decodeDigest reads the node's answer for block height. The node is not
// trusted (the runtime checks the digest against the next header), but a
// malformed answer is caught here so it is blamed on the node.
func decodeDigest(raw []byte, height int64) (mq.Block, error) {
	var d mq.Block
	if err := codec.Unmarshal(raw, &d); err != nil {
		return mq.Block{}, ErrNodeAnswer.Wrapf("digest of block %d: %v", height, err)
	}
	if d.Height != height {
		return mq.Block{}, ErrNodeAnswer.Wrapf("asked the digest of block %d, got block %d", height, d.Height)
	}
	if len(d.StateRoot) != 32 {
		return mq.Block{}, ErrNodeAnswer.Wrapf("digest of block %d: state root is %d bytes", height, len(d.StateRoot))
	}
	return d, nil
}
