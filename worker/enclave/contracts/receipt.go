package contracts

import (
	"slices"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/workerwire"
)

// Receipt is what the sender of a command learns (workerwire.Receipt: the
// client decodes the same form).
type Receipt = workerwire.Receipt

// ReceiptEvent is an event in a receipt.
type ReceiptEvent = workerwire.ReceiptEvent

// MessageOutcome is how a message a contract sent fared, in a receipt.
type MessageOutcome = workerwire.MessageOutcome

// ReceiptRecord is a receipt kept for serving with the reply key of its
// command. It is kept in the module's (sealed) state as plaintext and
// sealed to ReplyKey when served (workerwire.SealReceipt): sealing draws
// fresh randomness, which the fold must not, so that a replay reaches the
// same state. A command that never opened has no reply key: its receipt
// (status only) is served unsealed.
type ReceiptRecord struct {
	_        struct{} `cbor:",toarray"`
	Receipt  Receipt
	ReplyKey []byte
}

// ReceiptAAD is the additional data a receipt is sealed with: it opens
// only as the receipt of that command.
func ReceiptAAD(seq uint64) []byte { return workerwire.ReceiptAAD(seq) }

// keepReceipt keeps a command's receipt, dropping the oldest past
// MaxReceipts.
func (m *Module) keepReceipt(rec ReceiptRecord) {
	m.st.Receipts = append(m.st.Receipts, rec)
	if over := len(m.st.Receipts) - MaxReceipts; over > 0 {
		m.st.Receipts = slices.Delete(m.st.Receipts, 0, over)
	}
}

// ReceiptByTx is the kept receipt of the command transaction tx carried
// (false as for Receipt). The newest are searched first: they are the
// ones asked for.
func (m *Module) ReceiptByTx(tx contractsapi.Hash) (ReceiptRecord, bool) {
	if tx == (contractsapi.Hash{}) {
		return ReceiptRecord{}, false
	}
	for _, r := range slices.Backward(m.st.Receipts) {
		if r.Receipt.TxHash == tx {
			return r, true
		}
	}
	return ReceiptRecord{}, false
}

// Receipt is the kept receipt of command seq (false: not executed here
// yet, not a command of this worker's clusters, or gone: only the newest
// MaxReceipts are kept). Receipts are kept in chain order, so in
// ascending Seq.
func (m *Module) Receipt(seq uint64) (ReceiptRecord, bool) {
	i, found := slices.BinarySearchFunc(m.st.Receipts, seq, func(r ReceiptRecord, s uint64) int {
		switch {
		case r.Receipt.Seq < s:
			return -1
		case r.Receipt.Seq > s:
			return 1
		}
		return 0
	})
	if !found {
		return ReceiptRecord{}, false
	}
	return m.st.Receipts[i], true
}
