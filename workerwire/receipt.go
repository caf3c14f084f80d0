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

// Receipt routes of the public API: GET PathReceipts + seq, or
// PathReceiptsTx + the transaction's hash in hex.
const (
	PathReceipts   = "/v1/receipts/"
	PathReceiptsTx = "/v1/receipts/tx/"
)

// ReceiptPath is the path of command seq's receipt.
func ReceiptPath(seq uint64) string { return PathReceipts + strconv.FormatUint(seq, 10) }

// ReceiptTxPath is the path of the receipt of the command that
// transaction tx carried.
func ReceiptTxPath(tx contractsapi.Hash) string { return PathReceiptsTx + tx.String() }

// ReceiptRef names the command whose receipt is asked for: by the chain's
// number (Seq) or by the hash of the transaction that carried it (TxHash),
// which the sender knows as soon as it signs. One of the two is set.
type ReceiptRef struct {
	Seq    uint64
	TxHash contractsapi.Hash
}

// BySeq names command seq.
func BySeq(seq uint64) ReceiptRef { return ReceiptRef{Seq: seq} }

// ByTx names the command of transaction tx.
func ByTx(tx contractsapi.Hash) ReceiptRef { return ReceiptRef{TxHash: tx} }

func (r ReceiptRef) byTx() bool { return r.TxHash != (contractsapi.Hash{}) }

// Path is the receipt's route on a worker's public API.
func (r ReceiptRef) Path() string {
	if r.byTx() {
		return ReceiptTxPath(r.TxHash)
	}
	return ReceiptPath(r.Seq)
}

func (r ReceiptRef) String() string {
	if r.byTx() {
		return "the command of transaction " + r.TxHash.String()
	}
	return "command " + strconv.FormatUint(r.Seq, 10)
}

// Names says whether a command numbered seq, carried by transaction tx,
// is the one r names.
func (r ReceiptRef) Names(seq uint64, tx contractsapi.Hash) bool {
	if r.byTx() {
		return r.TxHash == tx
	}
	return r.Seq == seq
}

// Receipt is what the sender of a command learns: its status, gas (the
// messages it sent included), the method's output (its return value, or
// the revert message), the events addressed to the sender or to everyone,
// the payouts the chain makes for it (as in the results) and how each
// message its contracts sent fared, in the order they ran; and the
// command's transaction and the key generation it was sealed to.
// Canonical CBOR, sealed (or, for a command that never opened, plain:
// NeverOpened).
type Receipt struct {
	_          struct{} `cbor:",toarray"`
	Seq        uint64
	Height     int64 // the block the command ran in
	Status     contractsapi.Status
	GasUsed    uint64
	Output     []byte
	Events     []ReceiptEvent
	Payouts    []contractsapi.Payout
	Messages   []MessageOutcome
	TxHash     contractsapi.Hash
	Generation uint32
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

// NeverOpened says whether a command of this status never opened: the
// worker could not read it (undecryptable, a key generation it does not
// hold, a malformed plaintext) or had no contract to run it on. Such a
// command has no reply key to seal to, and nothing secret to say: its
// receipt travels unsealed, with no gas, output, events, payouts or
// messages.
func NeverOpened(s contractsapi.Status) bool {
	switch s {
	case contractsapi.StatusUndecryptable, contractsapi.StatusNoKey, contractsapi.StatusMalformed, contractsapi.StatusNoContract:
		return true
	}
	return false
}

// ReceiptAAD is the additional data a receipt is sealed with: it opens
// only as the receipt of that command.
func ReceiptAAD(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("receipt:"), seq) }

// SignedReceipt is the public API's answer (JSON): the receipt sealed to
// the command's reply key (envelope purpose Receipt) or, for a command
// that never opened (NeverOpened), the receipt in plain CBOR; and the
// worker's identity-key signature over (height, seq, tx hash, sealed,
// plain) under the context sigctx.WorkerReceipt and the chain id. Height
// is the worker's verified height when it answered; the receipt inside
// names the block the command ran in.
type SignedReceipt struct {
	ChainID   string            `json:"chain_id"`
	Height    int64             `json:"height"`
	Seq       uint64            `json:"seq"`
	TxHash    contractsapi.Hash `json:"tx_hash"`
	Sealed    []byte            `json:"sealed,omitempty"` // base64 in JSON
	Plain     []byte            `json:"plain,omitempty"`  // a never-opened command's receipt, CBOR
	Worker    []byte            `json:"worker"`           // the worker's identity key
	Signature []byte            `json:"signature"`        // ed25519
}

type receiptSigned struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	Seq    uint64
	TxHash contractsapi.Hash
	Sealed []byte
	Plain  []byte
}

// SigningBytes is what the worker signs (the chain id is in the context).
func (s SignedReceipt) SigningBytes() []byte {
	return codec.MustMarshal(receiptSigned{Height: s.Height, Seq: s.Seq, TxHash: s.TxHash, Sealed: s.Sealed, Plain: s.Plain})
}

// SealReceipt seals r to replyKey and signs the answer with the worker's
// identity key at height. Without a reply key (a command that never
// opened) the receipt goes unsealed, and then it must be one that says
// nothing secret (NeverOpened, no gas, output or events).
func SealReceipt(chainID string, height int64, replyKey []byte, r Receipt, identity ed25519.PrivateKey) (SignedReceipt, error) {
	s := SignedReceipt{ChainID: chainID, Height: height, Seq: r.Seq, TxHash: r.TxHash, Worker: identity.Public().(ed25519.PublicKey)}
	if len(replyKey) == 0 {
		if err := checkPlain(r); err != nil {
			return SignedReceipt{}, err
		}
		s.Plain = codec.MustMarshal(r)
	} else {
		sealed, err := envelope.SealTo(chainID, envelope.Receipt, envelope.Default, replyKey, codec.MustMarshal(r), ReceiptAAD(r.Seq))
		if err != nil {
			return SignedReceipt{}, err
		}
		s.Sealed = sealed
	}
	s.Signature = sigctx.WorkerReceipt.Sign(identity, chainID, s.SigningBytes())
	return s, nil
}

// checkPlain accepts a receipt fit to travel unsealed.
func checkPlain(r Receipt) error {
	if !NeverOpened(r.Status) || r.GasUsed != 0 || len(r.Output) != 0 || len(r.Events) != 0 || len(r.Payouts) != 0 || len(r.Messages) != 0 {
		return ErrMalformed.Wrapf("an unsealed receipt must be of a command that never opened, without gas, output, events, payouts or messages (status %s, gas %d, %d output bytes, %d events, %d payouts, %d messages)",
			r.Status, r.GasUsed, len(r.Output), len(r.Events), len(r.Payouts), len(r.Messages))
	}
	return nil
}

// Verify checks the worker's signature and that the answer is about the
// command ref names on chain chainID.
func (s SignedReceipt) Verify(chainID string, ref ReceiptRef) error {
	if s.ChainID != chainID || !ref.Names(s.Seq, s.TxHash) {
		return ErrMismatch.Wrapf("answer for chain %q command %d (transaction %s), asked chain %q %s", s.ChainID, s.Seq, s.TxHash, chainID, ref)
	}
	if (len(s.Sealed) == 0) == (len(s.Plain) == 0) {
		return ErrMalformed.Wrapf("a receipt answer holds either a sealed or a plain receipt")
	}
	if !sigctx.WorkerReceipt.Verify(ed25519.PublicKey(s.Worker), chainID, s.SigningBytes(), s.Signature) {
		return ErrSignature.Wrapf("receipt of %s", ref)
	}
	return nil
}

// Open verifies the answer (Verify) and reads the receipt: a sealed one
// with the command's reply key, a plain one (a command that never opened)
// as it is, reply unused and possibly nil.
func (s SignedReceipt) Open(chainID string, ref ReceiptRef, reply hpke.PrivateKey) (Receipt, error) {
	if err := s.Verify(chainID, ref); err != nil {
		return Receipt{}, err
	}
	plain := s.Plain
	if len(s.Sealed) > 0 {
		if reply == nil {
			return Receipt{}, ErrOpen.Wrapf("the receipt of %s is sealed to the command's reply key, and none was given", ref)
		}
		var err error
		if plain, err = envelope.Open(chainID, envelope.Receipt, reply, s.Sealed, ReceiptAAD(s.Seq)); err != nil {
			return Receipt{}, ErrOpen.Wrapf("%s: %v", ref, err)
		}
	}
	var r Receipt
	if err := codec.UnmarshalCanonical(plain, &r); err != nil {
		return Receipt{}, ErrMalformed.Wrapf("receipt: %v", err)
	}
	if len(s.Plain) > 0 {
		if err := checkPlain(r); err != nil {
			return Receipt{}, err
		}
	}
	if r.Seq != s.Seq || r.TxHash != s.TxHash {
		return Receipt{}, ErrMismatch.Wrapf("receipt of command %d (transaction %s) in an answer for command %d (transaction %s)", r.Seq, r.TxHash, s.Seq, s.TxHash)
	}
	return r, nil
}

// Err is nil for a receipt whose command succeeded, else an error saying
// what went wrong in words a sender can act on: the key generation it was
// sealed to, the gas used (all of the limit, when out of gas), the
// contract's error text.
func (r Receipt) Err() error {
	if r.Status == contractsapi.StatusOK {
		return nil
	}
	return &CommandError{Status: r.Status, GasUsed: r.GasUsed, Message: "command " + strconv.FormatUint(r.Seq, 10) + ": " + r.explain()}
}

func (r Receipt) explain() string {
	gen := strconv.FormatUint(uint64(r.Generation), 10)
	gas := strconv.FormatUint(r.GasUsed, 10)
	text := ""
	if len(r.Output) > 0 {
		text = ": " + string(r.Output)
	}
	switch r.Status {
	case contractsapi.StatusUndecryptable:
		return "undecryptable: it does not open with the contract's key of generation " + gen + " (sealed to another key, or to another contract or sender)"
	case contractsapi.StatusNoKey:
		return "sealed to key generation " + gen + ", which the worker does not hold"
	case contractsapi.StatusMalformed:
		return "malformed: it opened, but is not a command (method, JSON arguments, reply key)"
	case contractsapi.StatusNoContract:
		return "unknown contract: it does not run on the worker (its constructor failed, or the worker never saw it start)"
	case contractsapi.StatusOutOfGas:
		return "out of gas: used all " + gas + " gas of its limit" + text
	case contractsapi.StatusReverted:
		return "reverted (gas used " + gas + ")" + text
	case contractsapi.StatusTrap:
		return "trapped (gas used " + gas + ")" + text
	}
	return r.Status.String() + " (gas used " + gas + ")" + text
}

// CommandError is a receipt whose status is not ok.
type CommandError struct {
	Status  contractsapi.Status
	GasUsed uint64
	Message string
}

func (e *CommandError) Error() string { return e.Message }
