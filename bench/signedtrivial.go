package bench

import (
	"context"
	stded25519 "crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/crypto/sigctx"
	"github.com/phala-go/phala/node"
)

// A signed-trivial transaction is the signer's public key, then the
// signature, then an opaque payload, TransferSize bytes in all. The
// signature is sigctx.Tx's over the key and the payload (everything but the
// signature) for ChainID: the same context prefix and about the same
// message length as a transfer's signed envelope.
const (
	signedPubOffset = 0
	signedSigOffset = signedPubOffset + ed25519.PublicKeySize
	signedPayload   = signedSigOffset + ed25519.SignatureSize
)

// signedVerifyOptions are chain/tx's verifyOptions: curve25519-voi's preset
// that accepts exactly what crypto/ed25519 accepts. The chain verifies with
// voi under these options (chain/tx/verify.go, unexported there), so the
// baseline pays the same per signature; crypto/ed25519.Verify would be
// slower and flatter the chain's ratio.
var signedVerifyOptions = &ed25519.Options{Verify: ed25519.VerifyOptionsStdLib}

// codeBadSignature is the code SignedTrivialApp answers for a transaction
// whose signature does not verify.
const codeBadSignature = 1

// errBadSignedTx is the log of a refused signed-trivial transaction.
var errBadSignedTx = errors.New("bad signature")

// signedPresignRate sizes the signed-trivial run's pre-signed set as
// presignRate does the transfers': the baseline verifies a signature in
// about 30 µs on the feeder's core and does nothing else, so one feeder can
// pass 20,000/s (Result.Exhausted says if it ran dry all the same).
const signedPresignRate = 2 * presignRate

// maxSignedVerdicts bounds SignedTrivialApp's cache; past it the cache is
// emptied (a verdict is recomputed on a miss, so that is only slower).
const maxSignedVerdicts = 1 << 20

// SignedTrivialApp is the honest floor for a signed transaction: the
// trivial application that also verifies each transaction's ed25519
// signature, and does nothing else.
//
// It verifies the way phala's application does, so that the two compare
// fairly: PreCheckTx (run by the node outside the ABCI lock, see
// node.PreChecker) verifies a new transaction and remembers the verdict by
// the transaction's hash (tx.Hash, as phala's signature cache); CheckTx and
// FinalizeBlock reuse the verdict and verify only on a miss (a block from
// another proposer, a node that never called PreCheckTx). So each
// transaction through the mempool costs one verification, off the lock,
// plus a hash and a lookup per call, as it does in phala. Without
// PreCheckTx the baseline would verify under the lock, run slower than
// phala's layout allows, and make the chain look better than it is.
type SignedTrivialApp struct {
	abci.BaseApplication

	mu       sync.Mutex
	verdicts map[[32]byte]bool // tx hash → signature valid
}

// NewSignedTrivialApp returns the application with an empty cache.
func NewSignedTrivialApp() *SignedTrivialApp {
	return &SignedTrivialApp{verdicts: make(map[[32]byte]bool)}
}

var (
	_ abci.Application = (*SignedTrivialApp)(nil)
	_ node.PreChecker  = (*SignedTrivialApp)(nil)
)

// verifySigned reports whether raw is well formed and its signature verifies.
func verifySigned(raw []byte) bool {
	if len(raw) < signedPayload {
		return false
	}
	pub := raw[signedPubOffset:signedSigOffset]
	sig := raw[signedSigOffset:signedPayload]
	msg := append(sigctx.Tx.Bytes(ChainID), raw[signedPubOffset:signedSigOffset]...)
	msg = append(msg, raw[signedPayload:]...)
	return ed25519.VerifyWithOptions(pub, msg, sig, signedVerifyOptions)
}

// verdict returns the cached verdict for raw, verifying and caching on a miss.
func (a *SignedTrivialApp) verdict(raw []byte) (h [32]byte, valid bool) {
	h = tx.Hash(raw)
	a.mu.Lock()
	valid, known := a.verdicts[h]
	a.mu.Unlock()
	if known {
		return h, valid
	}
	valid = verifySigned(raw)
	a.mu.Lock()
	if len(a.verdicts) >= maxSignedVerdicts {
		clear(a.verdicts)
	}
	a.verdicts[h] = valid
	a.mu.Unlock()
	return h, valid
}

func (a *SignedTrivialApp) forget(h [32]byte) {
	a.mu.Lock()
	delete(a.verdicts, h)
	a.mu.Unlock()
}

// PreCheckTx verifies a new transaction's signature and remembers the verdict.
func (a *SignedTrivialApp) PreCheckTx(_ context.Context, raw []byte) { a.verdict(raw) }

// CheckTx accepts a transaction whose signature verifies. It asks for the
// gas of a transfer, as TrivialApp does, so blocks pack alike.
func (a *SignedTrivialApp) CheckTx(_ context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	h, valid := a.verdict(req.Tx)
	if !valid {
		// It never reaches a block through this mempool: drop the verdict.
		a.forget(h)
		return &abci.CheckTxResponse{Code: codeBadSignature, Log: errBadSignedTx.Error()}, nil
	}
	return &abci.CheckTxResponse{Code: abci.CodeTypeOK, GasWanted: gasLimit}, nil
}

// FinalizeBlock succeeds every transaction whose signature verifies and
// keeps the app hash.
func (a *SignedTrivialApp) FinalizeBlock(_ context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i, raw := range req.Txs {
		h, valid := a.verdict(raw)
		a.forget(h) // committed: the mempool will not offer it again
		if valid {
			results[i] = &abci.ExecTxResult{Code: abci.CodeTypeOK}
		} else {
			results[i] = &abci.ExecTxResult{Code: codeBadSignature, Log: errBadSignedTx.Error()}
		}
	}
	return &abci.FinalizeBlockResponse{TxResults: results, AppHash: trivialAppHash}, nil
}

// signSigned makes a signed-trivial transaction of size bytes from key:
// its payload is id (so no two are alike) and then bytes from rng.
func signSigned(key stded25519.PrivateKey, size int, id uint64, rng *rand.ChaCha8) []byte {
	raw := make([]byte, max(size, signedPayload+8))
	copy(raw[signedPubOffset:], key.Public().(stded25519.PublicKey))
	binary.BigEndian.PutUint64(raw[signedPayload:], id)
	_, _ = rng.Read(raw[signedPayload+8:])
	msg := append(append([]byte(nil), raw[signedPubOffset:signedSigOffset]...), raw[signedPayload:]...)
	copy(raw[signedSigOffset:], sigctx.Tx.Sign(key, ChainID, msg))
	return raw
}

// signSignedTxs signs count signed-trivial transactions on all cores,
// transaction k from sender k mod N, so splitBySender can deal them out.
// Signing is the client's cost, so it is done before the clock starts.
func signSignedTxs(ctx context.Context, senders []sender, count, size int) ([][]byte, error) {
	out := make([][]byte, count)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.NewChaCha8([32]byte{byte(w), 's'})
			for k := w; k < count && ctx.Err() == nil; k += workers {
				out[k] = signSigned(senders[k%len(senders)].key, size, uint64(k), rng)
			}
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

// SignedTrivial measures the same for SignedTrivialApp, fed transactions of
// the size of a signed transfer, each with a valid signature made before the
// clock starts (as for Transfers), with the same node configuration.
func SignedTrivial(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	size, err := TransferSize()
	if err != nil {
		return Result{}, err
	}
	senders := newSenders(o.Accounts)
	count := max(int(o.Duration.Seconds()*signedPresignRate), len(senders))
	fmt.Fprintf(o.Progress, "signed-trivial: signing %d transactions from %d keys\n", count, len(senders))
	start := time.Now()
	txs, err := signSignedTxs(ctx, senders, count, size)
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(o.Progress, "signed-trivial: signed in %s\n", time.Since(start).Round(time.Millisecond))
	home, cleanup, err := layout(o, nil)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	timed := &timedApp{Application: NewSignedTrivialApp()}
	n, err := node.Start(ctx, home, timed, startOptions()...)
	if err != nil {
		return Result{}, err
	}
	res, err := measure(ctx, "signed-trivial", o, n, timed, splitBySender(txs, len(senders), o.Feeders))
	res.TxBytes = size
	return res, errors.Join(err, n.Stop())
}
