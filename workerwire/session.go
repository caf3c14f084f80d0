package workerwire

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/sigctx"
)

// Query sessions. A caller who asks a contract many questions opens a
// session once: a SessionOpen sealed to the contract's key, as a one-shot
// query is, with a nonce, an expiry height, a fresh reply key and
// optionally its signature. The worker answers with a random session id
// and secret sealed to the reply key (SessionGrant), signed by its
// identity key. Each later query is a SessionQuery sealed under the
// session's query key (envelope.SessionCipher) with a sequence number the
// worker accepts once; the answer comes back sealed under the reply key
// with the same number, signed by the worker naming the height. One
// post-quantum KEM per session instead of two per query.
//
// Confidentiality of the answers is the one-shot path's: the secret is
// sealed to the caller's ephemeral reply key, so even a later leak of the
// contract key does not open a recorded session.

// Session routes of the public API: POST a SessionRequest to open, a
// SessionQueryRequest to ask (JSON).
const (
	PathSession      = "/v1/query/session"
	PathSessionQuery = "/v1/query/session/query"
)

// The worker's coded refusals a session client acts on (errs module
// "runtime", worker/enclave registers them): an unknown session (the
// worker restarted, or forgot it) and an expired one are opened again.
const (
	RuntimeModule      = "runtime"
	CodeQueryExpired   = 33
	CodeSessionUnknown = 50
)

// Session bounds.
const (
	// SessionIDSize is a session id's length.
	SessionIDSize = 16
	// MaxSessionWindow bounds expiry - height of a session, as
	// MaxQueryWindow bounds a query's.
	MaxSessionWindow = MaxQueryWindow
	// MaxSessionQueryBody bounds a session query request.
	MaxSessionQueryBody = MaxQueryBody
)

// SessionRequest is the body of POST PathSession: a SessionOpen sealed
// (purpose envelope.SessionOpen, additional data SessionAAD(contract)) to
// the contract's public key of generation Generation.
type SessionRequest struct {
	Contract   contractsapi.Hash `json:"contract"`
	Generation uint32            `json:"generation"`
	Sealed     []byte            `json:"sealed"`
}

// SessionAAD binds a sealed session request to its contract.
func SessionAAD(contract contractsapi.Hash) []byte {
	return append([]byte("query-session:"), contract[:]...)
}

// SessionOpen asks for a session (canonical CBOR, sealed).
type SessionOpen struct {
	_        struct{} `cbor:",toarray"`
	Contract contractsapi.Hash
	Nonce    []byte // NonceSize random bytes: a request is granted once
	Expiry   int64  // the last height the session may be used at
	ReplyKey []byte // the grant is sealed to it (envelope.Default suite)
	// Caller and Signature (sigctx.QuerySessionCaller over the request
	// with Signature empty) make every query of the session a signed
	// query of Caller's; both empty: an anonymous session.
	Caller    []byte
	Signature []byte
}

// SigningBytes is what a caller signs: the request without its signature.
func (o SessionOpen) SigningBytes() []byte {
	o.Signature = nil
	return codec.MustMarshal(o)
}

// Sign makes o a signed request of key's.
func (o *SessionOpen) Sign(chainID string, key ed25519.PrivateKey) {
	o.Caller = key.Public().(ed25519.PublicKey)
	o.Signature = sigctx.QuerySessionCaller.Sign(key, chainID, o.SigningBytes())
}

// VerifyCaller checks a signed request's signature (true for an anonymous
// one without a signature).
func (o SessionOpen) VerifyCaller(chainID string) bool {
	if len(o.Caller) == 0 && len(o.Signature) == 0 {
		return true
	}
	return sigctx.QuerySessionCaller.Verify(ed25519.PublicKey(o.Caller), chainID, o.SigningBytes(), o.Signature)
}

// SessionGrant is a granted session (canonical CBOR, sealed to the
// request's reply key).
type SessionGrant struct {
	_      struct{} `cbor:",toarray"`
	ID     []byte   // SessionIDSize bytes
	Secret []byte   // envelope.SessionSecretSize bytes
	Expiry int64
}

// Ciphers are the grant's query and reply ciphers on chain chainID for
// contract.
func (g SessionGrant) Ciphers(chainID string, contract contractsapi.Hash) (query, reply envelope.SessionCipher, err error) {
	return SessionCiphers(chainID, contract, g.ID, g.Secret)
}

// SessionCiphers derives a session's two ciphers, bound to its contract
// and id.
func SessionCiphers(chainID string, contract contractsapi.Hash, id, secret []byte) (query, reply envelope.SessionCipher, err error) {
	binding := append(append([]byte(nil), contract[:]...), id...)
	if query, err = envelope.NewSessionCipher(chainID, envelope.SessionQuery, secret, binding); err != nil {
		return
	}
	reply, err = envelope.NewSessionCipher(chainID, envelope.SessionReply, secret, binding)
	return
}

// NewSessionGrant is a fresh random session of the given expiry.
func NewSessionGrant(expiry int64) SessionGrant {
	g := SessionGrant{ID: make([]byte, SessionIDSize), Secret: make([]byte, envelope.SessionSecretSize), Expiry: expiry}
	_, _ = rand.Read(g.ID) // crypto/rand.Read never fails
	_, _ = rand.Read(g.Secret)
	return g
}

// SignedSessionGrant is the answer to a SessionRequest (JSON): the grant
// sealed to the reply key (purpose envelope.SessionGrant, additional data
// the request's nonce) and signed by the worker (sigctx.WorkerSessionGrant)
// over (height, nonce, sealed).
type SignedSessionGrant struct {
	ChainID   string `json:"chain_id"`
	Height    int64  `json:"height"`
	Nonce     []byte `json:"nonce"`
	Sealed    []byte `json:"sealed"`
	Worker    []byte `json:"worker"`
	Signature []byte `json:"signature"`
}

// SigningBytes is what the worker signs.
func (s SignedSessionGrant) SigningBytes() []byte {
	return codec.MustMarshal(replySigned{Height: s.Height, Nonce: s.Nonce, Sealed: s.Sealed})
}

// SealSessionGrant seals g to the request's reply key and signs it.
func SealSessionGrant(chainID string, height int64, o SessionOpen, g SessionGrant, identity ed25519.PrivateKey) (SignedSessionGrant, error) {
	sealed, err := envelope.SealTo(chainID, envelope.SessionGrant, envelope.Default, o.ReplyKey, codec.MustMarshal(g), o.Nonce)
	if err != nil {
		return SignedSessionGrant{}, err
	}
	s := SignedSessionGrant{ChainID: chainID, Height: height, Nonce: o.Nonce, Sealed: sealed, Worker: identity.Public().(ed25519.PublicKey)}
	s.Signature = sigctx.WorkerSessionGrant.Sign(identity, chainID, s.SigningBytes())
	return s, nil
}

// Open verifies the worker's signature and opens the grant of the request
// with nonce, with its reply key.
func (s SignedSessionGrant) Open(chainID string, nonce []byte, reply hpke.PrivateKey) (SessionGrant, error) {
	if s.ChainID != chainID || string(s.Nonce) != string(nonce) {
		return SessionGrant{}, ErrMismatch.Wrapf("grant for chain %q, another request", s.ChainID)
	}
	if !sigctx.WorkerSessionGrant.Verify(ed25519.PublicKey(s.Worker), chainID, s.SigningBytes(), s.Signature) {
		return SessionGrant{}, ErrSignature.Wrapf("session grant")
	}
	plain, err := envelope.Open(chainID, envelope.SessionGrant, reply, s.Sealed, nonce)
	if err != nil {
		return SessionGrant{}, ErrOpen.Wrapf("session grant: %v", err)
	}
	var g SessionGrant
	if err := codec.UnmarshalCanonical(plain, &g); err != nil {
		return SessionGrant{}, ErrMalformed.Wrapf("session grant: %v", err)
	}
	if len(g.ID) != SessionIDSize || len(g.Secret) != envelope.SessionSecretSize {
		return SessionGrant{}, ErrMalformed.Wrapf("session grant of a %d-byte id and a %d-byte secret", len(g.ID), len(g.Secret))
	}
	return g, nil
}

// SessionQueryRequest is the body of POST PathSessionQuery: a
// SessionQuery sealed under the session's query cipher as message Seq,
// additional data SessionQueryAAD(contract, session).
type SessionQueryRequest struct {
	Session  []byte            `json:"session"`
	Contract contractsapi.Hash `json:"contract"`
	Seq      uint64            `json:"seq"`
	Sealed   []byte            `json:"sealed"`
}

// SessionQueryAAD binds a session query or answer to its contract and
// session.
func SessionQueryAAD(contract contractsapi.Hash, session []byte) []byte {
	return append(append([]byte("session-query:"), contract[:]...), session...)
}

// SessionQuery is one query of a session (canonical CBOR, sealed).
type SessionQuery struct {
	_        struct{} `cbor:",toarray"`
	Method   string
	Args     []byte // JSON
	GasLimit uint64 // 0: DefaultQueryGas
	// Caller names who asks: the session's caller key (empty for an
	// anonymous session). A query naming anyone else is refused, so a
	// caller juggling sessions for several keys learns of a mix-up
	// instead of asking as the wrong account.
	Caller []byte
}

// SignedSessionReply is the answer to a session query (JSON): the
// QueryResult sealed under the session's reply cipher as message Seq
// (additional data SessionQueryAAD), signed by the worker
// (sigctx.WorkerSessionReply) over (height, session, seq, sealed).
type SignedSessionReply struct {
	ChainID   string `json:"chain_id"`
	Height    int64  `json:"height"`
	Session   []byte `json:"session"`
	Seq       uint64 `json:"seq"`
	Sealed    []byte `json:"sealed"`
	Worker    []byte `json:"worker"`
	Signature []byte `json:"signature"`
}

type sessionReplySigned struct {
	_       struct{} `cbor:",toarray"`
	Height  int64
	Session []byte
	Seq     uint64
	Sealed  []byte
}

// SigningBytes is what the worker signs.
func (s SignedSessionReply) SigningBytes() []byte {
	return codec.MustMarshal(sessionReplySigned{Height: s.Height, Session: s.Session, Seq: s.Seq, Sealed: s.Sealed})
}

// SealSessionReply seals r under the session's reply cipher and signs it.
func SealSessionReply(chainID string, height int64, contract contractsapi.Hash, session []byte, seq uint64, reply envelope.SessionCipher, r QueryResult, identity ed25519.PrivateKey) (SignedSessionReply, error) {
	sealed, err := reply.Seal(seq, codec.MustMarshal(r), SessionQueryAAD(contract, session))
	if err != nil {
		return SignedSessionReply{}, err
	}
	s := SignedSessionReply{ChainID: chainID, Height: height, Session: session, Seq: seq, Sealed: sealed, Worker: identity.Public().(ed25519.PublicKey)}
	s.Signature = sigctx.WorkerSessionReply.Sign(identity, chainID, s.SigningBytes())
	return s, nil
}

// Open verifies the worker's signature and opens the answer to query seq
// of session on contract.
func (s SignedSessionReply) Open(chainID string, contract contractsapi.Hash, session []byte, seq uint64, reply envelope.SessionCipher) (QueryResult, error) {
	if s.ChainID != chainID || string(s.Session) != string(session) || s.Seq != seq {
		return QueryResult{}, ErrMismatch.Wrapf("answer for chain %q, another session or query", s.ChainID)
	}
	if !sigctx.WorkerSessionReply.Verify(ed25519.PublicKey(s.Worker), chainID, s.SigningBytes(), s.Signature) {
		return QueryResult{}, ErrSignature.Wrapf("session reply")
	}
	plain, err := reply.Open(seq, s.Sealed, SessionQueryAAD(contract, session))
	if err != nil {
		return QueryResult{}, ErrOpen.Wrapf("session reply: %v", err)
	}
	var r QueryResult
	if err := codec.UnmarshalCanonical(plain, &r); err != nil {
		return QueryResult{}, ErrMalformed.Wrapf("query result: %v", err)
	}
	return r, nil
}
