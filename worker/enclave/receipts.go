package enclave

import (
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/worker/enclave/contracts"
	"github.com/phala-go/phala/workerwire"
)

// Receipt answers command seq's receipt sealed to the command's reply key
// (or plain, for a command that never opened) and signed by this
// enclave's identity key at its verified height (workerwire.SignedReceipt).
// false: no receipt of that command here (not executed yet, not of this
// worker's clusters, or no longer kept).
func (r *Runtime) Receipt(seq uint64) (workerwire.SignedReceipt, bool, error) {
	return r.receipt(workerwire.BySeq(seq), func(m *contracts.Module) (contracts.ReceiptRecord, bool) { return m.Receipt(seq) })
}

// ReceiptByTx is Receipt of the command transaction tx carried.
func (r *Runtime) ReceiptByTx(tx contractsapi.Hash) (workerwire.SignedReceipt, bool, error) {
	return r.receipt(workerwire.ByTx(tx), func(m *contracts.Module) (contracts.ReceiptRecord, bool) { return m.ReceiptByTx(tx) })
}

func (r *Runtime) receipt(ref workerwire.ReceiptRef, find func(*contracts.Module) (contracts.ReceiptRecord, bool)) (workerwire.SignedReceipt, bool, error) {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return workerwire.SignedReceipt{}, false, ErrClosed
	}
	rec, ok := find(r.contracts)
	chainID, height := r.light.ChainID, r.light.Height
	r.mu.RUnlock()
	if !ok {
		return workerwire.SignedReceipt{}, false, nil
	}
	// Sealing (a KEM) happens outside the lock: blocks go on meanwhile.
	s, err := workerwire.SealReceipt(chainID, height, rec.ReplyKey, rec.Receipt, r.node.Identity)
	if err != nil {
		// A reply key that does not parse: the command's sender chose it.
		return workerwire.SignedReceipt{}, false, ErrBadRequest.Wrapf("receipt of %s: %v", ref, err)
	}
	return s, true, nil
}
