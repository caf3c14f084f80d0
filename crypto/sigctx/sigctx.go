// Package sigctx is the one registry of domain-separation contexts. Every
// signed, hashed or encrypted structure of the project has its own context,
// declared here exactly once, so a signature made for one purpose (or one
// chain) can never be replayed as another.
package sigctx

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"sync"
)

// Context names one purpose. Bind it to a chain id before use.
type Context struct{ name string }

var (
	mu    sync.Mutex
	names = map[string]bool{}
)

func register(name string) Context {
	mu.Lock()
	defer mu.Unlock()
	if names[name] {
		panic(fmt.Sprintf("sigctx: context %q registered twice", name))
	}
	names[name] = true
	return Context{name: name}
}

// The registry. Add new contexts here, never inline elsewhere.
var (
	// Transaction envelopes signed by accounts.
	Tx = register("phala/tx/v1")
	// The app hash chain of the consensus application.
	AppHash = register("phala/apphash/v2")
	// The root of a block's ordered message list for enclaves.
	MessageRoot = register("phala/mq/root/v1")
	// Leaves of that message list.
	MessageLeaf = register("phala/mq/leaf/v1")
	// The report data a TEE node's quote carries to bind its keys.
	RegistrationReport = register("phala/registry/report-data/v1")
	// Messages from enclaves to the chain, signed by their identity keys.
	Egress = register("phala/mq/egress/v1")
	// The state of a worker runtime (light client, registry view, outbox).
	RuntimeState = register("phala/worker/state/v1")
	// Contract ids: a hash of deployer, code hash, cluster and salt.
	ContractID = register("phala/contract-id/v1")
	// A worker's answer on its public API (a sealed receipt, a sealed
	// query reply), signed by its identity key with the height answered at.
	WorkerReceipt    = register("phala/worker/receipt/v1")
	WorkerQueryReply = register("phala/worker/query-reply/v1")
	// A caller's signature over its query (inside the query envelope), so
	// contracts see an authenticated caller.
	QueryCaller = register("phala/query/caller/v1")
	// Query sessions: the caller's signature over its session request, the
	// worker's over the grant (the session secret sealed to the caller's
	// reply key) and over each answer in the session.
	QuerySessionCaller = register("phala/query-session/caller/v1")
	WorkerSessionGrant = register("phala/worker/session-grant/v1")
	WorkerSessionReply = register("phala/worker/session-reply/v1")

	// HPKE envelopes (crypto/envelope): the info of each purpose, so a
	// ciphertext sealed for one purpose or chain never opens as another.
	EnvelopeMasterKey  = register("phala/envelope/master-key/v1")
	EnvelopeClusterKey = register("phala/envelope/cluster-key/v1")
	EnvelopeCommand    = register("phala/envelope/command/v1")
	EnvelopeQuery      = register("phala/envelope/query/v1")
	EnvelopeQueryReply = register("phala/envelope/query-reply/v1")
	EnvelopeReceipt    = register("phala/envelope/receipt/v1")
	// A query session's request (sealed to the contract key) and grant
	// (sealed to the caller's reply key).
	EnvelopeSessionOpen  = register("phala/envelope/session-open/v1")
	EnvelopeSessionGrant = register("phala/envelope/session-grant/v1")
	// The symmetric keys of a query session, one per direction, derived
	// from the session secret (crypto/envelope, session.go).
	SessionQueryKey = register("phala/session/query-key/v1")
	SessionReplyKey = register("phala/session/reply-key/v1")

	// Key derivation (crypto/derive): one label per step of the hierarchy.
	DeriveCluster    = register("phala/derive/cluster/v1")
	DeriveContract   = register("phala/derive/contract/v1")
	DeriveEncryption = register("phala/derive/encryption-key/v1")
	DeriveSigning    = register("phala/derive/signing-key/v1")
	// A contract's own secrets, for its deterministic random stream and the
	// signing keys it asks for by purpose (vm host functions).
	DeriveContractRandom  = register("phala/derive/contract-random/v1")
	DeriveContractSigning = register("phala/derive/contract-signing/v1")

	// The compute module's per-block heartbeat challenge seed.
	ComputeChallengeSeed = register("phala/compute/challenge-seed/v1")
)

// Name returns the context's registered name.
func (c Context) Name() string { return c.name }

// Bytes is the prefix for chain chainID: name, 0, chain id, 0. The zero bytes
// keep (name, chain) pairs unambiguous.
func (c Context) Bytes(chainID string) []byte {
	b := make([]byte, 0, len(c.name)+len(chainID)+2)
	b = append(b, c.name...)
	b = append(b, 0)
	b = append(b, chainID...)
	return append(b, 0)
}

// Sign signs msg under this context and chain.
func (c Context) Sign(key ed25519.PrivateKey, chainID string, msg []byte) []byte {
	return ed25519.Sign(key, c.message(chainID, msg))
}

// Verify checks a signature made by Sign.
func (c Context) Verify(pub ed25519.PublicKey, chainID string, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, c.message(chainID, msg), sig)
}

func (c Context) message(chainID string, msg []byte) []byte {
	return append(c.Bytes(chainID), msg...)
}

// Hash is SHA-256 over the context prefix and the parts, each length-prefixed
// so that no two different part lists hash alike.
func (c Context) Hash(chainID string, parts ...[]byte) [32]byte {
	h := sha256.New()
	h.Write(c.Bytes(chainID))
	var n [8]byte
	for _, p := range parts {
		l := uint64(len(p))
		for i := range n {
			n[i] = byte(l >> (56 - 8*i))
		}
		h.Write(n[:])
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
