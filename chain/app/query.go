package app

import (
	"context"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/proof"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
)

// Query answers "module/what" paths on committed state with canonical CBOR.
func (a *App) Query(_ context.Context, req *abci.QueryRequest) (*abci.QueryResponse, error) {
	resp := &abci.QueryResponse{Height: a.last.Height}
	path := strings.TrimPrefix(req.Path, "/")
	var err error
	if path == chainapi.QueryState {
		err = a.queryState(req, resp)
	} else {
		var value any
		if value, err = a.query(path, req.Data); err == nil {
			resp.Value, err = codec.Marshal(value)
		}
	}
	if err != nil {
		resp.Codespace, resp.Code = errs.Code(err)
		resp.Log = err.Error()
	}
	return resp, nil
}

func (a *App) query(path string, data []byte) (any, error) {
	name, _, _ := strings.Cut(path, "/")
	switch path {
	case chainapi.QueryAnchor:
		return chainapi.Anchor{Height: a.last.Height, Hash: a.last.BlockHash}, nil
	case chainapi.QueryBlock:
		var h int64
		if err := codec.Unmarshal(data, &h); err != nil {
			return nil, module.ErrBadQuery.Wrapf("%s takes a CBOR height: %v", chainapi.QueryBlock, err)
		}
		return a.Block(h)
	}
	for _, m := range a.modules {
		if m.Name() == name {
			return m.Query(a.store, path, data)
		}
	}
	return nil, module.ErrUnknownQuery.Wrapf("%q", path)
}

// queryState answers one raw state entry at a recent height, with its
// proof when asked.
func (a *App) queryState(req *abci.QueryRequest, resp *abci.QueryResponse) error {
	height := req.Height
	if height == 0 {
		height = a.last.Height
	}
	if height < 0 || height > a.last.Height {
		return module.ErrBadQuery.Wrapf("height %d is not committed (last %d)", height, a.last.Height)
	}
	resp.Height, resp.Key = height, req.Data
	if len(req.Data) == 0 {
		return module.ErrBadQuery.Wrapf("%s takes a state key", chainapi.QueryState)
	}
	if !req.Prove {
		value, err := a.store.GetAt(height, req.Data)
		if err != nil {
			return module.ErrNotFound.Wrapf("%v", err)
		}
		resp.Value = codec.MustMarshal(chainapi.StateEntry{Found: value != nil, Value: value})
		return nil
	}
	value, p, err := a.store.Proof(height, req.Data)
	if err != nil {
		return module.ErrNotFound.Wrapf("%v", err)
	}
	resp.Value = codec.MustMarshal(chainapi.StateEntry{Found: value != nil, Value: value})
	step, err := a.appHashStep(height)
	if err != nil {
		return err
	}
	ops, err := proof.Make(req.Data, p, step)
	if err != nil {
		return err
	}
	resp.ProofOps = &cmtcrypto.ProofOps{}
	for _, o := range ops {
		resp.ProofOps.Ops = append(resp.ProofOps.Ops, cmtcrypto.ProofOp{Type: o.Type, Key: o.Key, Data: o.Data})
	}
	return nil
}

// appHashStep is what height's app hash commits to besides its state root.
func (a *App) appHashStep(height int64) (proof.AppHashStep, error) {
	step := proof.AppHashStep{Height: height}
	var msgs []mq.Message
	if height > 0 {
		prev, ok, err := a.store.AppHash(height - 1)
		if err != nil {
			return step, err
		}
		if !ok {
			return step, module.ErrNotFound.Wrapf("app hash of height %d is no longer kept", height-1)
		}
		raw, err := a.store.BlockDigest(height)
		if err != nil {
			return step, err
		}
		if raw == nil {
			return step, module.ErrNotFound.Wrapf("block %d's digest is not kept here (restored from a later snapshot?)", height)
		}
		var d mq.Block
		if err := codec.Unmarshal(raw, &d); err != nil {
			return step, err
		}
		step.PrevAppHash, msgs = prev, d.Messages
	}
	root := mq.Root(a.chainID, msgs)
	step.MessagesRoot = root[:]
	return step, nil
}
