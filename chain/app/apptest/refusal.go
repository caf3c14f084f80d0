package apptest

import (
	"bytes"
	"errors"
	"maps"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/bank"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/chain/store"
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

// Writes is what a block is expected to write, measured against the whole
// committed state taken before it ran.
type Writes struct {
	before  map[string][]byte
	changes []state.Change
}

// ChargeWrites is what a block whose only effect is paying raw's fee
// writes: the fee moved to the treasury and the sender's nonce advanced, as
// computed on the committed state (besides the block's own hash, which every
// block records). Take it before the block runs raw.
func (c *Chain) ChargeWrites(raw []byte) Writes {
	c.T.Helper()
	signed, err := tx.Decode(raw)
	if err != nil {
		c.T.Fatal(err)
	}
	s := state.NewOverlay(c.App.Store())
	if err := bank.ChargeFee(s, signed.Envelope.SenderAddress(), signed.Envelope.Fee); err != nil {
		c.T.Fatal(err)
	}
	return Writes{before: c.dumpState(), changes: s.Changes()}
}

// NothingWritten is what a block that changes nothing writes (its own block
// hash only). Take it before the block runs.
func (c *Chain) NothingWritten() Writes {
	c.T.Helper()
	return Writes{before: c.dumpState()}
}

// dumpState reads the whole committed state.
func (c *Chain) dumpState() map[string][]byte {
	c.T.Helper()
	out := map[string][]byte{}
	err := c.App.Store().Iterate(nil, func(k, v []byte) error {
		out[string(k)] = bytes.Clone(v)
		return nil
	})
	if err != nil {
		c.T.Fatal(err)
	}
	return out
}

// MustWrite fails the test unless the newest block wrote exactly w (and its
// own block hash) and published nothing.
func (c *Chain) MustWrite(w Writes) {
	c.T.Helper()
	d, err := c.App.Block(c.Height)
	if err != nil {
		c.T.Fatal(err)
	}
	if len(d.Messages) != 0 {
		c.T.Fatalf("block %d published %d messages, want none", c.Height, len(d.Messages))
	}
	want := maps.Clone(w.before)
	overlay := state.NewOverlay(mapReader(want))
	for _, ch := range w.changes {
		if ch.Value == nil {
			overlay.Delete(ch.Key)
		} else {
			overlay.Set(ch.Key, ch.Value)
		}
	}
	hash, _, err := c.App.Store().BlockHash(c.Height)
	if err != nil {
		c.T.Fatal(err)
	}
	store.RecordBlockHash(overlay, c.Height, hash)
	for _, ch := range overlay.Changes() {
		if ch.Value == nil {
			delete(want, string(ch.Key))
		} else {
			want[string(ch.Key)] = ch.Value
		}
	}
	got := c.dumpState()
	for k, v := range got {
		if wv, ok := want[k]; !ok || !bytes.Equal(wv, v) {
			c.T.Fatalf("block %d wrote key %x = %x, want only the fee charge (%x)", c.Height, k, v, wv)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			c.T.Fatalf("block %d deleted key %x, want only the fee charge", c.Height, k)
		}
	}
}

type mapReader map[string][]byte

func (m mapReader) Get(k []byte) ([]byte, error) { return m[string(k)], nil }

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
