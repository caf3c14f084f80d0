package apptest

import (
	"bytes"
	"errors"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/errs"
)

// errNoReason stands for a refusal that does not say why, which no test
// accepts as the refusal it wants.
var errNoReason = errors.New("refused without a reason")

// wireErr rebuilds the error of a refusal as a client sees it: nil for
// code 0.
func wireErr(space string, code uint32, log string) error {
	switch {
	case code == 0:
		return nil
	case log == "":
		return errNoReason
	}
	return errs.FromWire(space, code, log)
}

// TxErr is the error a transaction's block result stands for; nil if it
// succeeded. Compare it with errors.Is.
func TxErr(r *abci.ExecTxResult) error { return wireErr(r.Codespace, r.Code, r.Log) }

// CheckErr is the error a CheckTx answer stands for; nil if it passed.
func CheckErr(r *abci.CheckTxResponse) error { return wireErr(r.Codespace, r.Code, r.Log) }

// MustRefuse runs raw through CheckTx and then, as a proposer may include
// it anyway, through a block; both must refuse it with want. It returns
// the block and the transaction's result in it.
func (c *Chain) MustRefuse(raw []byte, want error) (*abci.FinalizeBlockResponse, *abci.ExecTxResult) {
	c.T.Helper()
	if r := c.Check(raw); !errors.Is(CheckErr(r), want) {
		c.T.Fatalf("CheckTx: %s/%d %q, want %v", r.Codespace, r.Code, r.Log, want)
	}
	resp := c.Block(raw)
	r := resp.TxResults[0]
	if !errors.Is(TxErr(r), want) {
		c.T.Fatalf("FinalizeBlock: %s/%d %q, want %v", r.Codespace, r.Code, r.Log, want)
	}
	return resp, r
}

// HasEvent reports whether events hold one of kind.
func HasEvent(events []abci.Event, kind string) bool {
	for _, e := range events {
		if e.Type == kind {
			return true
		}
	}
	return false
}

// ChargeWrites is the writes hash of a block whose only effect is paying
// raw's fee: the fee moved to the treasury and the sender's nonce advanced,
// as computed on the committed state. Take it before the block runs raw.
func (c *Chain) ChargeWrites(raw []byte) []byte {
	c.T.Helper()
	signed, err := tx.Decode(raw)
	if err != nil {
		c.T.Fatal(err)
	}
	s := state.NewOverlay(c.App.Store())
	if err := bank.ChargeFee(s, signed.Envelope.SenderAddress(), signed.Envelope.Fee); err != nil {
		c.T.Fatal(err)
	}
	h := state.ChangesHash(s.Changes())
	return h[:]
}

// MustWrite fails the test unless the newest block wrote exactly what
// writesHash stands for and published nothing.
func (c *Chain) MustWrite(writesHash []byte) {
	c.T.Helper()
	d, err := c.App.Block(c.Height)
	if err != nil {
		c.T.Fatal(err)
	}
	if !bytes.Equal(d.WritesHash, writesHash) || len(d.Messages) != 0 {
		c.T.Fatalf("block %d wrote %x and published %d messages, want exactly the fee charge %x", c.Height, d.WritesHash, len(d.Messages), writesHash)
	}
}

// MustRefuseCharged is MustRefuse for a transaction whose envelope is sound
// but whose method refuses: in the block the fee is paid and the nonce used
// (so the same bytes can never run again), the gas is reported, and nothing
// else changes.
func (c *Chain) MustRefuseCharged(raw []byte, want error) (*abci.FinalizeBlockResponse, *abci.ExecTxResult) {
	c.T.Helper()
	charge := c.ChargeWrites(raw)
	resp, r := c.MustRefuse(raw, want)
	c.MustWrite(charge)
	if r.GasUsed == 0 || len(r.Events) != 0 {
		c.T.Fatalf("refused in its method: gas used %d, %d events; want the method's gas and no events", r.GasUsed, len(r.Events))
	}
	return resp, r
}
