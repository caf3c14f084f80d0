package app

import (
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
// the method's handler (decode body, check, mutate, emit). Writes go to a
// branch of s that is merged only on success.
func (a *App) runTx(s *state.Overlay, blk module.Block, raw []byte, checkOnly bool) txOutcome {
	if len(raw) > int(a.params.MaxTxBytes) {
		return txOutcome{err: tx.ErrTooLarge.Wrapf("%d bytes, limit %d", len(raw), a.params.MaxTxBytes)}
	}
	signed, err := tx.Decode(raw)
	if err != nil {
		return txOutcome{err: err}
	}
	env := &signed.Envelope
	out := txOutcome{gasWant: env.GasLimit}
	if out.err = a.checkEnvelope(s, signed, raw); out.err != nil {
		return out
	}
	method := a.methods[env.Method]
	branch := s.Branch()
	ctx := &module.Context{Block: blk, Store: branch, Sender: env.SenderAddress(), SenderKey: env.Sender, CheckOnly: checkOnly}
	if err := bank.ChargeFee(branch, ctx.Sender, env.Fee); err != nil {
		out.err = tx.ErrCannotPayFee.Wrapf("%v", err)
		return out
	}
	if out.err = method.Handle(ctx, env.Body); out.err != nil {
		return out
	}
	branch.Merge()
	out.ctx, out.gasUsed = ctx, method.Gas
	return out
}

// checkEnvelope runs every check that needs no writes: chain, signature,
// method, gas, fee and nonce.
func (a *App) checkEnvelope(s state.Reader, signed *tx.Signed, raw []byte) error {
	env := &signed.Envelope
	if err := signed.CheckChain(a.chainID); err != nil {
		return err
	}
	if err := a.verifyOnce(signed, raw); err != nil {
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

// verifyOnce verifies a signature unless these exact bytes verified before.
func (a *App) verifyOnce(signed *tx.Signed, raw []byte) error {
	h := tx.Hash(raw)
	if a.sigs.has(h) {
		return nil
	}
	if err := signed.VerifySignature(); err != nil {
		return err
	}
	a.sigs.add(h)
	return nil
}

// result turns an outcome into ABCI's result fields.
func result(o txOutcome) (code uint32, codespace, log string, events []abci.Event) {
	if o.err != nil {
		codespace, code = errs.Code(o.err)
		return code, codespace, o.err.Error(), nil
	}
	return 0, "", "", o.ctx.Events()
}
