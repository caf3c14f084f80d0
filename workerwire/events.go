package workerwire

import (
	"crypto/ed25519"
	"crypto/hpke"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/sigctx"
)

// Events addressed to an account: a contract emits an event with an
// audience (vm host function emit), and the workers keep it for the
// accounts named. Only that account reads it, by a request it signs with
// its key (nonce and expiry, like queries); the answer is sealed to a
// fresh reply key of the request. Nothing readable goes on chain.

// PathEvents is the public API's events route: POST an EventsRequest.
const PathEvents = "/v1/events"

// Bounds of the events route.
const (
	// MaxEventsBody bounds a request: keys, nonce and signature in base64
	// JSON take under 2 KiB.
	MaxEventsBody = 4 << 10
	// MaxEventsPage bounds the events of one answer.
	MaxEventsPage = 100
)

// EventsRequest is the body of POST /v1/events (JSON), signed by the
// account's ed25519 key over everything but the signature
// (sigctx.EventsCaller). It asks for the events addressed to the account
// with an index above After, of one contract (zero: of all), at most
// Limit (0 or more than MaxEventsPage: MaxEventsPage).
type EventsRequest struct {
	Account   []byte            `json:"account"` // ed25519 public key
	Contract  contractsapi.Hash `json:"contract,omitzero"`
	After     uint64            `json:"after"`
	Limit     uint32            `json:"limit"`
	Nonce     []byte            `json:"nonce"`  // NonceSize random bytes: a request is answered once
	Expiry    int64             `json:"expiry"` // the last height it may be answered at
	ReplyKey  []byte            `json:"reply_key"`
	Signature []byte            `json:"signature"`
}

type eventsSigned struct {
	_        struct{} `cbor:",toarray"`
	Account  []byte
	Contract contractsapi.Hash
	After    uint64
	Limit    uint32
	Nonce    []byte
	Expiry   int64
	ReplyKey []byte
}

// SigningBytes is what the account signs: the request without its
// signature, canonical CBOR.
func (q EventsRequest) SigningBytes() []byte {
	return codec.MustMarshal(eventsSigned{Account: q.Account, Contract: q.Contract, After: q.After, Limit: q.Limit,
		Nonce: q.Nonce, Expiry: q.Expiry, ReplyKey: q.ReplyKey})
}

// Sign makes q a request of key's account.
func (q *EventsRequest) Sign(chainID string, key ed25519.PrivateKey) {
	q.Account = key.Public().(ed25519.PublicKey)
	q.Signature = sigctx.EventsCaller.Sign(key, chainID, q.SigningBytes())
}

// VerifySignature checks the account's signature.
func (q EventsRequest) VerifySignature(chainID string) bool {
	return len(q.Account) == ed25519.PublicKeySize && sigctx.EventsCaller.Verify(ed25519.PublicKey(q.Account), chainID, q.SigningBytes(), q.Signature)
}

// AccountEvent is one event addressed to the account: its index among the
// worker's kept events (ascending; ask again with After the last one), the
// command that emitted it, the block, the contract, topic and data.
type AccountEvent struct {
	_        struct{} `cbor:",toarray"`
	Index    uint64
	Seq      uint64
	Height   int64
	Contract contractsapi.Hash
	Topic    string
	Data     []byte
}

// EventsResult is the answer inside the sealed reply. More says a next
// page exists; Oldest is the index of the oldest event the worker still
// keeps (of anyone's): a client whose After is below Oldest - 1 may have
// missed events that are gone.
type EventsResult struct {
	_      struct{} `cbor:",toarray"`
	Events []AccountEvent
	More   bool
	Oldest uint64
}

// SignedEventsReply is the answer (JSON): the EventsResult sealed to the
// request's reply key (purpose envelope.Events, additional data EventsAAD
// of the nonce) and the worker's identity-key signature
// (sigctx.WorkerEventsReply) over (height, nonce, sealed).
type SignedEventsReply struct {
	ChainID   string `json:"chain_id"`
	Height    int64  `json:"height"`
	Nonce     []byte `json:"nonce"`
	Sealed    []byte `json:"sealed"`
	Worker    []byte `json:"worker"`
	Signature []byte `json:"signature"`
}

// EventsAAD binds a sealed answer to its request.
func EventsAAD(nonce []byte) []byte { return append([]byte("events:"), nonce...) }

// SigningBytes is what the worker signs.
func (s SignedEventsReply) SigningBytes() []byte {
	return codec.MustMarshal(replySigned{Height: s.Height, Nonce: s.Nonce, Sealed: s.Sealed})
}

// SealEvents seals r to the request's reply key and signs it.
func SealEvents(chainID string, height int64, q EventsRequest, r EventsResult, identity ed25519.PrivateKey) (SignedEventsReply, error) {
	sealed, err := envelope.SealTo(chainID, envelope.Events, envelope.Default, q.ReplyKey, codec.MustMarshal(r), EventsAAD(q.Nonce))
	if err != nil {
		return SignedEventsReply{}, err
	}
	s := SignedEventsReply{ChainID: chainID, Height: height, Nonce: q.Nonce, Sealed: sealed, Worker: identity.Public().(ed25519.PublicKey)}
	s.Signature = sigctx.WorkerEventsReply.Sign(identity, chainID, s.SigningBytes())
	return s, nil
}

// Open verifies the worker's signature and opens the answer to the
// request with nonce, with its reply key.
func (s SignedEventsReply) Open(chainID string, nonce []byte, reply hpke.PrivateKey) (EventsResult, error) {
	if s.ChainID != chainID || string(s.Nonce) != string(nonce) {
		return EventsResult{}, ErrMismatch.Wrapf("answer for chain %q, another request", s.ChainID)
	}
	if !sigctx.WorkerEventsReply.Verify(ed25519.PublicKey(s.Worker), chainID, s.SigningBytes(), s.Signature) {
		return EventsResult{}, ErrSignature.Wrapf("events reply")
	}
	plain, err := envelope.Open(chainID, envelope.Events, reply, s.Sealed, EventsAAD(nonce))
	if err != nil {
		return EventsResult{}, ErrOpen.Wrapf("events reply: %v", err)
	}
	var r EventsResult
	if err := codec.UnmarshalCanonical(plain, &r); err != nil {
		return EventsResult{}, ErrMalformed.Wrapf("events result: %v", err)
	}
	if len(r.Events) > MaxEventsPage {
		return EventsResult{}, ErrMalformed.Wrapf("%d events, a page holds at most %d", len(r.Events), MaxEventsPage)
	}
	return r, nil
}
