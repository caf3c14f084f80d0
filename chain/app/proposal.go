package app

import (
	"context"
	"encoding/binary"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/tx"
)

// A block may carry transactions that fail: those pay their fee (see
// runTx). What it must not carry is bytes nobody can be charged for:
// undecodable, for another chain, or not signed by the sender they name.
// Those would take block space for free, so the proposer leaves them out
// and validators refuse a block that carries them. Both checks read only
// the bytes and the chain id, never state, so every honest validator
// agrees on them; state-dependent checks (nonce, fee) stay in
// FinalizeBlock, where a refused transaction is still harmless.

// PrepareProposal keeps the mempool's transactions that can be charged, in
// order, within the block's byte limit.
func (a *App) PrepareProposal(_ context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	txs := make([][]byte, 0, len(req.Txs))
	var size int64
	for _, raw := range req.Txs {
		if a.chargeable(raw) != nil {
			continue
		}
		n := protoSize(raw)
		if size+n > req.MaxTxBytes {
			// A smaller transaction further on might fit, but the rest keep
			// the mempool's order (a sender's nonces are consecutive).
			break
		}
		size += n
		txs = append(txs, raw)
	}
	return &abci.PrepareProposalResponse{Txs: txs}, nil
}

// ProcessProposal refuses a block that carries a transaction no one can be
// charged for, and any block this binary may not run (upgrade.go).
func (a *App) ProcessProposal(_ context.Context, req *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	if err := a.HaltReason(); err != nil && req.Height > a.last.Height {
		// This binary cannot run the block: never vote for it. Should
		// two thirds have upgraded, the chain goes on without this node.
		a.log.Warn("rejecting proposed block", "height", req.Height, "err", err)
		return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
	}
	for _, raw := range req.Txs {
		if err := a.chargeable(raw); err != nil {
			a.log.Warn("rejecting proposed block", "height", req.Height, "tx", tx.Hash(raw), "err", err)
			return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
		}
	}
	return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}

// chargeable reports why raw could never be charged a fee: too large,
// undecodable, for another chain or badly signed. It reuses the signature
// cache, so a transaction that came through this node's mempool costs a
// hash and a lookup.
func (a *App) chargeable(raw []byte) error {
	if len(raw) > int(a.params.MaxTxBytes) {
		return tx.ErrTooLarge.Wrapf("%d bytes, limit %d", len(raw), a.params.MaxTxBytes)
	}
	h := tx.Hash(raw)
	signed, err := a.decode(h, raw)
	if err != nil {
		return err
	}
	if err := signed.CheckChain(a.chainID); err != nil {
		return err
	}
	return a.verifyOnce(signed, h)
}

// protoSize is what raw adds to the block's data as CometBFT counts it
// against MaxTxBytes (types.Txs.Validate): the protobuf field's tag, the
// length's varint and the bytes.
func protoSize(raw []byte) int64 {
	return int64(1 + uvarintLen(uint64(len(raw))) + len(raw))
}

func uvarintLen(x uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], x)
}
