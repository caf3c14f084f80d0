package tx

import (
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/phala-go/phala/crypto/sigctx"
)

// verifyOptions select curve25519-voi's preset that accepts and refuses
// exactly what crypto/ed25519 does (cofactorless equation, canonical S and
// R, non-canonical and small-order A allowed). Every node must agree on
// which signatures are valid, so this must never drift from the standard
// library: TestVerifyMatchesStdlib and FuzzVerifyMatchesStdlib pin it.
// voi is used only because it verifies in about 60% of the time.
var verifyOptions = &ed25519.Options{Verify: ed25519.VerifyOptionsStdLib}

// verifyTx checks sig over msg under the transaction context of chainID,
// the same message sigctx.Tx.Sign signs.
func verifyTx(pub []byte, chainID string, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.VerifyWithOptions(pub, append(sigctx.Tx.Bytes(chainID), msg...), sig, verifyOptions)
}
