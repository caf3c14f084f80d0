// Package workerwire is the wire form of a worker's public contract API,
// shared by the worker (worker/api) and its clients (client): receipts
// sealed to a command's reply key and signed by the worker's identity key,
// and (later) encrypted queries. JSON on HTTP; what is sealed or signed is
// canonical CBOR.
package workerwire

import (
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/binary"
	"strconv"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/errs"
)

// Module is the errs module of this package's errors.
const Module = "workerwire"

// Errors of opening an answer. Codes are stable.
var (
	// ErrSignature: the answer is not signed by the worker it names, or
	// for another chain, height or command.
	ErrSignature = errs.Register(Module, 1, "worker signature does not verify")
	// ErrOpen: the sealed receipt does not open with this reply key (it
	// is someone else's, or damaged).
	ErrOpen = errs.Register(Module, 2, "receipt does not open with this key")
	// ErrMalformed: the answer or the receipt inside does not decode.
	ErrMalformed = errs.Register(Module, 3, "malformed answer")
	// ErrMismatch: the answer is about another command or chain than asked.
	ErrMismatch = errs.Register(Module, 4, "answer is not for this request")
)

// PathReceipts is the public API's receipt route: GET PathReceipts + seq.
const PathReceipts = "/v1/receipts/"

// ReceiptPath is the path of command seq's receipt.
func ReceiptPath(seq uint64) string { return PathReceipts + strconv.FormatUint(seq, 10) }

// Receipt is what the sender of a command learns: its status, gas (the
// messages it sent included), the method's output (its return value, or
// the revert message), the events addressed to the sender or to everyone,
// the payouts the chain makes for it (as in the results) and how each
// message its contracts sent fared, in the order they ran. Canonical
// CBOR, sealed.
type Receipt struct {
	_        struct{} `cbor:",toarray"`
	Seq      uint64
	Height   int64 // the block the command ran in
	Status   contractsapi.Status
	GasUsed  uint64
	Output   []byte
	Events   []ReceiptEvent
	Payouts  []contractsapi.Payout
	Messages []MessageOutcome
}

// MessageOutcome is a message a contract sent (sdk.Send) while the
// command ran: who sent it to whom, at which depth (1: sent by the
// command's contract), its status, gas, output and the events addressed
// to the command's sender or to everyone. A message's failure does not
// change the command's status.
type MessageOutcome struct {
	_        struct{} `cbor:",toarray"`
	From     contractsapi.Hash
	Contract contractsapi.Hash // zero when the id sent was not a contract id's length
	Depth    uint32
	Status   contractsapi.Status
	GasUsed  uint64
	Output   []byte
	Events   []ReceiptEvent
}

// ReceiptEvent is an event in a receipt.
type ReceiptEvent struct {
	_     struct{} `cbor:",toarray"`
	Topic string
	Data  []byte
}

// ReceiptAAD is the additional data a receipt is sealed with: it opens
// only as the receipt of that command.
func ReceiptAAD(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("receipt:"), seq) }

// SignedReceipt is the public API's answer (JSON): the receipt sealed to
// the command's reply key (envelope purpose Receipt), and the worker's
// identity-key signature over (chain id, height, seq, sealed) under the
// context sigctx.WorkerReceipt. Height is the worker's verified height when
// it answered; the receipt inside names the block the command ran in.
type SignedReceipt struct {
	ChainID   string `json:"chain_id"`
	Height    int64  `json:"height"`
	Seq       uint64 `json:"seq"`
	Sealed    []byte `json:"sealed"`    // base64 in JSON
	Worker    []byte `json:"worker"`    // the worker's identity key
	Signature []byte `json:"signature"` // ed25519
}

type receiptSigned struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	Seq    uint64
	Sealed []byte
}

// SigningBytes is what the worker signs (the chain id is in the context).
func (s SignedReceipt) SigningBytes() []byte {
	return codec.MustMarshal(receiptSigned{Height: s.Height, Seq: s.Seq, Sealed: s.Sealed})
}

// SealReceipt seals r to replyKey and signs the answer with the worker's
// identity key at height.
func SealReceipt(chainID string, height int64, replyKey []byte, r Receipt, identity ed25519.PrivateKey) (SignedReceipt, error) {
	sealed, err := envelope.SealTo(chainID, envelope.Receipt, envelope.Default, replyKey, codec.MustMarshal(r), ReceiptAAD(r.Seq))
	if err != nil {
		return SignedReceipt{}, err
	}
	s := SignedReceipt{ChainID: chainID, Height: height, Seq: r.Seq, Sealed: sealed, Worker: identity.Public().(ed25519.PublicKey)}
	s.Signature = sigctx.WorkerReceipt.Sign(identity, chainID, s.SigningBytes())
	return s, nil
}

// Verify checks the worker's signature and that the answer is command
// seq's on chain chainID.
func (s SignedReceipt) Verify(chainID string, seq uint64) error {
	if s.ChainID != chainID || s.Seq != seq {
		return ErrMismatch.Wrapf("answer for chain %q command %d, asked chain %q command %d", s.ChainID, s.Seq, chainID, seq)
	}
	if !sigctx.WorkerReceipt.Verify(ed25519.PublicKey(s.Worker), chainID, s.SigningBytes(), s.Signature) {
		return ErrSignature.Wrapf("receipt of command %d", seq)
	}
	return nil
}

// Open verifies the answer (Verify) and opens the receipt with the
// command's reply key.
func (s SignedReceipt) Open(chainID string, seq uint64, replyKey hpke.PrivateKey) (Receipt, error) {
	if err := s.Verify(chainID, seq); err != nil {
		return Receipt{}, err
	}
	plain, err := envelope.Open(chainID, envelope.Receipt, replyKey, s.Sealed, ReceiptAAD(seq))
	if err != nil {
		return Receipt{}, ErrOpen.Wrapf("command %d: %v", seq, err)
	}
	var r Receipt
	if err := codec.UnmarshalCanonical(plain, &r); err != nil {
		return Receipt{}, ErrMalformed.Wrapf("receipt: %v", err)
	}
	if r.Seq != seq {
		return Receipt{}, ErrMismatch.Wrapf("receipt of command %d, asked %d", r.Seq, seq)
	}
	return r, nil
}

// Err is nil for a receipt whose command succeeded, else an error saying
// what went wrong: the status, the gas used (of the limit, when out of
// gas) and the contract's error text (a revert's message).
func (r Receipt) Err() error {
	if r.Status == contractsapi.StatusOK {
		return nil
	}
	msg := "command " + strconv.FormatUint(r.Seq, 10) + ": " + r.Status.String() + " (gas used " + strconv.FormatUint(r.GasUsed, 10) + ")"
	if len(r.Output) > 0 {
		msg += ": " + string(r.Output)
	}
	return &CommandError{Status: r.Status, GasUsed: r.GasUsed, Message: msg}
}

// CommandError is a receipt whose status is not ok.
type CommandError struct {
	Status  contractsapi.Status
	GasUsed uint64
	Message string
}

func (e *CommandError) Error() string { return e.Message }
