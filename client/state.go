package client

import (
	"context"
	"fmt"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/errs"
)

// StateAnswer is one raw state entry as a node answered it: nothing here
// is verified. Package lightproof checks Proof against a header a light
// client verified; this package stays free of CometBFT's light client and
// of the proof library, so wallets that only read link neither.
type StateAnswer struct {
	Height int64  // the state after this block
	Key    []byte // the key the node says it answered
	Found  bool
	Value  []byte             // the stored bytes (nil when absent)
	Proof  []cometrpc.ProofOp // empty unless asked for
}

// StateAt reads the raw entry under key after height (0: the last
// committed), with its proof if prove is set. A node that is not asked
// for a proof may still send one; it is returned as is.
func (c *Client) StateAt(ctx context.Context, key []byte, height int64, prove bool) (StateAnswer, error) {
	res, err := c.rpc.ABCIQueryAt(ctx, chainapi.QueryState, key, height, prove)
	if err != nil {
		return StateAnswer{}, c.unreachable(err)
	}
	if res.Code != 0 {
		return StateAnswer{}, errs.FromWire(res.Codespace, res.Code, res.Log)
	}
	var e chainapi.StateEntry
	if err := codec.Unmarshal(res.Value, &e); err != nil {
		return StateAnswer{}, fmt.Errorf("%w: state entry: %w", cometrpc.ErrMalformed, err)
	}
	if !e.Found && len(e.Value) > 0 {
		return StateAnswer{}, cometrpc.ErrMalformed.Wrapf("state entry is absent but carries %d bytes", len(e.Value))
	}
	a := StateAnswer{Height: res.Height, Key: res.Key, Found: e.Found}
	if e.Found {
		// An entry may be stored empty: present, so never nil.
		a.Value = append([]byte{}, e.Value...)
	}
	if res.ProofOps != nil {
		a.Proof = res.ProofOps.Ops
	}
	return a, nil
}

// LatestHeight is the node's newest committed height, as it says.
func (c *Client) LatestHeight(ctx context.Context) (int64, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}
