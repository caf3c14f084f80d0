package apptest

import (
	"errors"

	abci "github.com/cometbft/cometbft/abci/types"

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
