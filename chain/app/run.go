package app

import (
	"context"
	"errors"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/errs"
)

// txOutcome is what running one transaction produced.
type txOutcome struct {
	ctx     *module.Context
	gasUsed uint64
	gasWant uint64
	err     error
}

// runTx is shared by CheckTx and FinalizeBlock: decode, check, charge, then
// the method's handler (decode body, check, mutate, emit).
//
// Fees are always paid: once the envelope checks pass and the sender can
// afford the fee, the charge (fee to the treasury, nonce + 1) stands even if
// the method fails, and only the method's own writes, events and messages
// are discarded. Otherwise a failed transaction would cost nothing and, its
// nonce unused, could be replayed later to succeed.
//
// The mempool (checkOnly) is the exception: a transaction whose method
// fails is refused there and never enters the mempool, so its charge must
// not stay in the mempool's overlay either, or the sender's next
// transaction, signed at the committed nonce, would be refused as a reused
// nonce. The overlay holds exactly the charges of what the mempool holds.
func (a *App) runTx(s *state.Overlay, blk module.Block, raw []byte, checkOnly bool) txOutcome {
	if len(raw) > int(a.params.MaxTxBytes) {
		return txOutcome{err: tx.ErrTooLarge.Wrapf("%d bytes, limit %d", len(raw), a.params.MaxTxBytes)}
	}
	h := tx.Hash(raw)
	signed, err := a.decode(h, raw)
	if err != nil {
		return txOutcome{err: err}
	}
	env := &signed.Envelope
	out := txOutcome{gasWant: env.GasLimit}
	if out.err = a.checkEnvelope(s, signed, h, raw); out.err != nil {
		return out
	}
	charged := s.Branch()
	if err := bank.ChargeFee(charged, env.SenderAddress(), env.Fee); err != nil {
		out.err = tx.ErrCannotPayFee.Wrapf("%v", err)
		return out
	}
	method := a.methods[env.Method]
	out.gasUsed = method.Gas
	out.ctx, out.err = a.call(charged, blk, signed, h, method, checkOnly)
	if out.err == nil || !checkOnly {
		charged.Merge()
	}
	return out
}

// call runs the method's handler on a branch of the charged state and keeps
// its writes only if it succeeds. It returns the context (events, messages)
// of a success, nil on failure.
func (a *App) call(charged *state.Overlay, blk module.Block, signed *tx.Signed, h [32]byte, method module.Method, checkOnly bool) (*module.Context, error) {
	env := &signed.Envelope
	branch := charged.Branch()
	ctx := &module.Context{Block: blk, Store: branch, Sender: env.SenderAddress(), SenderKey: env.Sender, TxHash: h, CheckOnly: checkOnly}
	if err := method.Handle(ctx, env.Body); err != nil {
		return nil, err
	}
	branch.Merge()
	return ctx, nil
}

// checkEnvelope runs every check that needs no writes: chain, signature,
// method, gas, fee and nonce.
func (a *App) checkEnvelope(s state.Reader, signed *tx.Signed, h [32]byte, raw []byte) error {
	env := &signed.Envelope
	if err := signed.CheckChain(a.chainID); err != nil {
		return err
	}
	if err := a.verifyOnce(signed, h); err != nil {
		return err
	}
	method, ok := a.methods[env.Method]
	if !ok {
		return tx.ErrUnknownMethod.Wrapf("%q", env.Method)
	}
	if env.GasLimit < method.Gas {
		return tx.ErrOutOfGas.Wrapf("%s needs %d gas, limit %d", env.Method, method.Gas, env.GasLimit)
	}
	params, err := bank.GetParams(s)
	if err != nil {
		return err
	}
	minFee, err := params.Fee(len(raw))
	if err != nil {
		return err
	}
	if env.Fee.Cmp(minFee) < 0 {
		return tx.ErrFeeTooLow.Wrapf("fee %s, minimum for %d bytes is %s", env.Fee, len(raw), minFee)
	}
	acc, err := bank.GetAccount(s, env.SenderAddress())
	if err != nil {
		return err
	}
	switch {
	case env.Nonce < acc.Nonce:
		return tx.ErrNonceTooLow.Wrapf("nonce %d, account %s is at %d", env.Nonce, env.SenderAddress(), acc.Nonce)
	case env.Nonce > acc.Nonce:
		return tx.ErrNonceGap.Wrapf("nonce %d, account %s is at %d", env.Nonce, env.SenderAddress(), acc.Nonce)
	}
	return nil
}

// decode returns the transaction with hash h, decoded earlier by
// PreCheckTx or an earlier call if the signature cache still holds it.
func (a *App) decode(h [32]byte, raw []byte) (*tx.Signed, error) {
	if _, _, signed := a.sigs.get(h); signed != nil {
		return signed, nil
	}
	return tx.Decode(raw)
}

// verifyOnce verifies the signature of the transaction with hash h unless
// these exact bytes were verified before, by PreCheckTx, CheckTx or an
// earlier block.
func (a *App) verifyOnce(signed *tx.Signed, h [32]byte) error {
	if valid, known, _ := a.sigs.get(h); known {
		if !valid {
			return signed.BadSignature()
		}
		return nil
	}
	err := signed.VerifySignature()
	a.remember(h, signed, err)
	return err
}

// remember caches a verification's verdict. Only "valid" and "bad
// signature" are cached: a cached refusal always answers BadSignature, and
// every node must give the same code for the same bytes.
func (a *App) remember(h [32]byte, signed *tx.Signed, err error) {
	if err == nil || errors.Is(err, tx.ErrBadSignature) {
		a.sigs.add(h, err == nil, signed)
	}
}

// PreCheckTx decodes a new transaction and verifies its signature ahead of
// CheckTx, and remembers both, which CheckTx then reuses. It reads nothing
// but the transaction and the chain id, so the node calls it outside the
// lock that serialises the other ABCI calls: verification, the largest part
// of CheckTx, then runs on another core while a block executes (see
// node.PreChecker). It never changes what CheckTx answers; a transaction it
// cannot decode is left for CheckTx to refuse.
func (a *App) PreCheckTx(_ context.Context, raw []byte) {
	h := tx.Hash(raw)
	if _, known, _ := a.sigs.get(h); known {
		return
	}
	signed, err := tx.Decode(raw)
	if err != nil || signed.CheckChain(a.chainID) != nil {
		return
	}
	a.remember(h, signed, signed.VerifySignature())
}

// result turns an outcome into ABCI's result fields.
func result(o txOutcome) (code uint32, codespace, log string, events []abci.Event) {
	if o.err != nil {
		codespace, code = errs.Code(o.err)
		return code, codespace, o.err.Error(), nil
	}
	return 0, "", "", abciEvents(o.ctx.Events())
}

// abciEvents gives modules' events CometBFT's form, every attribute indexed.
func abciEvents(evs []module.Event) []abci.Event {
	out := make([]abci.Event, len(evs))
	for i, ev := range evs {
		out[i].Type = ev.Type
		for _, a := range ev.Attrs {
			out[i].Attributes = append(out[i].Attributes, abci.EventAttribute{Key: a.Key, Value: a.Value, Index: true})
		}
	}
	return out
}
