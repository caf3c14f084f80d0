package contracts

import (
	"encoding/binary"
	"github.com/phala-go/phala/chain/contracts/contractsapi"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
)

// Receipt is what the sender of a command learns: its status, gas, the
// method's output (its return value, or the revert message) and the
// events addressed to the sender or to everyone.
type Receipt struct {
	_       struct{} `cbor:",toarray"`
	Seq     uint64
	Height  int64
	Status  contractsapi.Status
	GasUsed uint64
	Output  []byte
	Events  []ReceiptEvent
}

// ReceiptEvent is an event in a receipt.
type ReceiptEvent struct {
	_     struct{} `cbor:",toarray"`
	Topic string
	Data  []byte
}

// ReceiptRecord is a receipt kept for serving with the reply key of its
// command. It is kept in the module's (sealed) state as plaintext and
// sealed to ReplyKey when served (SealReceipt): sealing draws fresh
// randomness, which the fold must not, so that a replay reaches the same
// state.
type ReceiptRecord struct {
	_        struct{} `cbor:",toarray"`
	Receipt  Receipt
	ReplyKey []byte
}

// ReceiptAAD is the additional data a receipt is sealed with: it opens
// only as the receipt of that command.
func ReceiptAAD(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("receipt:"), seq) }

// SealReceipt seals a kept receipt to its command's reply key (default
// suite; envelope purpose QueryReply until receipts get a purpose of
// their own).
func SealReceipt(chainID string, r ReceiptRecord) ([]byte, error) {
	return envelope.SealTo(chainID, envelope.QueryReply, envelope.Default, r.ReplyKey, codec.MustMarshal(r.Receipt), ReceiptAAD(r.Receipt.Seq))
}
