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

// PathQuery is the public API's query route: POST a QueryRequest (JSON).
const PathQuery = "/v1/query"

// Query bounds.
const (
	// MaxQueryBody bounds a query request: 64 KiB of arguments sealed,
	// base64 in JSON, with room for keys and framing.
	MaxQueryBody = 128 << 10
	// MaxQueryArgs bounds the arguments inside.
	MaxQueryArgs = 64 << 10
	// MaxQueryWindow bounds expiry - height: a worker remembers nonces
	// until their expiry, so the window bounds its memory.
	MaxQueryWindow = 600
	// NonceSize is a query nonce's length.
	NonceSize = 16
	// DefaultQueryGas is a query's gas limit; a request may ask for less.
	DefaultQueryGas = 100_000_000
)

// QueryRequest is the body of POST /v1/query (JSON). The contract and the
// key generation are in clear (the worker must know which key opens the
// envelope); everything else is in Sealed: a QueryPlain sealed to the
// contract's public key of that generation (purpose envelope.Query,
// additional data QueryAAD(contract)).
type QueryRequest struct {
	Contract   contractsapi.Hash `json:"contract"`
	Generation uint32            `json:"generation"`
	Sealed     []byte            `json:"sealed"`
}

// QueryAAD binds a sealed query to its contract.
func QueryAAD(contract contractsapi.Hash) []byte { return append([]byte("query:"), contract[:]...) }

// QueryPlain is a query (canonical CBOR, sealed).
type QueryPlain struct {
	_        struct{} `cbor:",toarray"`
	Contract contractsapi.Hash
	Method   string
	Args     []byte // JSON
	Nonce    []byte // NonceSize random bytes: a query runs once
	Expiry   int64  // the last height the query may be answered at
	GasLimit uint64 // 0: DefaultQueryGas
	ReplyKey []byte // the answer is sealed to it (envelope.Default suite)
	// Caller is the caller's ed25519 public key and Signature its
	// signature (sigctx.QueryCaller) over the query with Signature empty;
	// both empty: an anonymous query.
	Caller    []byte
	Signature []byte
}

// SigningBytes is what a caller signs: the query without its signature.
func (q QueryPlain) SigningBytes() []byte {
	q.Signature = nil
	return codec.MustMarshal(q)
}

// Sign makes q a signed query of key's.
func (q *QueryPlain) Sign(chainID string, key ed25519.PrivateKey) {
	q.Caller = key.Public().(ed25519.PublicKey)
	q.Signature = sigctx.QueryCaller.Sign(key, chainID, q.SigningBytes())
}

// VerifyCaller checks a signed query's signature (true for an anonymous
// one without a signature).
func (q QueryPlain) VerifyCaller(chainID string) bool {
	if len(q.Caller) == 0 && len(q.Signature) == 0 {
		return true
	}
	return sigctx.QueryCaller.Verify(ed25519.PublicKey(q.Caller), chainID, q.SigningBytes(), q.Signature)
}

// QueryResult is the answer inside the sealed reply.
type QueryResult struct {
	_       struct{} `cbor:",toarray"`
	Status  contractsapi.Status
	GasUsed uint64
	Output  []byte // the query's return value, or its revert message
}

// SignedQueryReply is the answer (JSON): the QueryResult sealed to the
// query's reply key (purpose envelope.QueryReply, additional data the
// nonce), and the worker's identity-key signature (sigctx.WorkerQueryReply)
// over (height, nonce, sealed): the height the query was answered at.
type SignedQueryReply struct {
	ChainID   string `json:"chain_id"`
	Height    int64  `json:"height"`
	Nonce     []byte `json:"nonce"`
	Sealed    []byte `json:"sealed"`
	Worker    []byte `json:"worker"`
	Signature []byte `json:"signature"`
}

type replySigned struct {
	_      struct{} `cbor:",toarray"`
	Height int64
	Nonce  []byte
	Sealed []byte
}

// SigningBytes is what the worker signs.
func (s SignedQueryReply) SigningBytes() []byte {
	return codec.MustMarshal(replySigned{Height: s.Height, Nonce: s.Nonce, Sealed: s.Sealed})
}

// SealQueryReply seals r to the query's reply key and signs it.
func SealQueryReply(chainID string, height int64, q QueryPlain, r QueryResult, identity ed25519.PrivateKey) (SignedQueryReply, error) {
	sealed, err := envelope.SealTo(chainID, envelope.QueryReply, envelope.Default, q.ReplyKey, codec.MustMarshal(r), q.Nonce)
	if err != nil {
		return SignedQueryReply{}, err
	}
	s := SignedQueryReply{ChainID: chainID, Height: height, Nonce: q.Nonce, Sealed: sealed, Worker: identity.Public().(ed25519.PublicKey)}
	s.Signature = sigctx.WorkerQueryReply.Sign(identity, chainID, s.SigningBytes())
	return s, nil
}

// Open verifies the worker's signature and opens the answer to the query
// with nonce, with its reply key.
func (s SignedQueryReply) Open(chainID string, nonce []byte, reply hpke.PrivateKey) (QueryResult, error) {
	if s.ChainID != chainID || string(s.Nonce) != string(nonce) {
		return QueryResult{}, ErrMismatch.Wrapf("answer for chain %q, another query", s.ChainID)
	}
	if !sigctx.WorkerQueryReply.Verify(ed25519.PublicKey(s.Worker), chainID, s.SigningBytes(), s.Signature) {
		return QueryResult{}, ErrSignature.Wrapf("query reply")
	}
	plain, err := envelope.Open(chainID, envelope.QueryReply, reply, s.Sealed, nonce)
	if err != nil {
		return QueryResult{}, ErrOpen.Wrapf("query reply: %v", err)
	}
	var r QueryResult
	if err := codec.UnmarshalCanonical(plain, &r); err != nil {
		return QueryResult{}, ErrMalformed.Wrapf("query result: %v", err)
	}
	return r, nil
}

// NewNonce is a fresh random query nonce.
func NewNonce() []byte {
	b := make([]byte, NonceSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}
