package lightproof

import "github.com/phala-go/phala/errs"

const module = "lightproof"

// Error kinds of a proven read. Codes are stable: only add. A proof that
// does not hold is chain/proof's error (proof/1..3), wrapped.
var (
	// ErrNoTrustRoot is a proven read asked for without a trust root.
	ErrNoTrustRoot = errs.Register(module, 1, "no trust root")
	// ErrTrustRoot is a trust root that is malformed or that the node's
	// chain does not have (wrong hash at that height, expired period).
	ErrTrustRoot = errs.Register(module, 2, "trust root refused")
	// ErrHeader is a header the light client refused: not signed by
	// enough of the trusted validators, not linked, from the future.
	ErrHeader = errs.Register(module, 3, "header not verified")
	// ErrAnswer is an answer that is not what was asked: another height,
	// another key, no proof, an undecodable value.
	ErrAnswer = errs.Register(module, 4, "answer does not match the question")
	// ErrChain is a chain too young to prove anything yet (fewer than two
	// blocks) or a node that could not be asked.
	ErrChain = errs.Register(module, 5, "chain not ready for proofs")
)
