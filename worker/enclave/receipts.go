package enclave

import (
	"github.com/phala-go/phala/workerwire"
)

// Receipt answers command seq's receipt sealed to the command's reply key
// and signed by this enclave's identity key at its verified height
// (workerwire.SignedReceipt). false: no receipt of that command here (not
// executed yet, not of this worker's clusters, or no longer kept).
func (r *Runtime) Receipt(seq uint64) (workerwire.SignedReceipt, bool, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return workerwire.SignedReceipt{}, false, ErrClosed
	}
	rec, ok := r.contracts.Receipt(seq)
	chainID, height := r.light.ChainID, r.light.Height
	r.mu.Unlock()
	if !ok {
		return workerwire.SignedReceipt{}, false, nil
	}
	// Sealing (a KEM) happens outside the lock: blocks go on meanwhile.
	s, err := workerwire.SealReceipt(chainID, height, rec.ReplyKey, rec.Receipt, r.node.Identity)
	if err != nil {
		// A reply key that does not parse: the command's sender chose it.
		return workerwire.SignedReceipt{}, false, ErrBadRequest.Wrapf("receipt of command %d: %v", seq, err)
	}
	return s, true, nil
}
