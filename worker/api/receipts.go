package api

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/workerwire"
)

// Errors of the public contract routes (codes 12-19; 10 and 11 are the
// relay API token's).
var (
	// ErrBadRequest: a path or query parameter that does not parse.
	ErrBadRequest = errs.Register(Module, 12, "malformed request")
	// ErrNoReceipt: this worker has no receipt of that command: not
	// executed here yet (retry after the next block), not a command of
	// this worker's clusters, or older than the receipts it keeps.
	ErrNoReceipt = errs.Register(Module, 13, "no receipt for this command")
)

// ReceiptServer is implemented by runtimes that run contracts
// (enclave.Runtime): the public API then serves receipts, by command
// number or by transaction hash.
type ReceiptServer interface {
	Receipt(seq uint64) (workerwire.SignedReceipt, bool, error)
	ReceiptByTx(tx contractsapi.Hash) (workerwire.SignedReceipt, bool, error)
}

// maxSeqDigits: a uint64 has at most 20 decimal digits.
const maxSeqDigits = 20

// parseSeq reads a command number: decimal digits only, no sign, no
// leading zero (one spelling per number), at most a uint64.
func parseSeq(s string) (uint64, error) {
	if s == "" || len(s) > maxSeqDigits || strings.TrimLeft(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
		return 0, ErrBadRequest.Wrapf("command number %q: want decimal digits", truncate(s, 32))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ErrBadRequest.Wrapf("command number %q: %v", truncate(s, 32), err)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseTxHash reads a transaction hash: 64 hex digits, nothing else, not
// all zeros (which names no transaction, and stands for none in a
// workerwire.ReceiptRef).
func parseTxHash(s string) (contractsapi.Hash, error) {
	var h contractsapi.Hash
	if len(s) != 2*len(h) {
		return h, ErrBadRequest.Wrapf("transaction hash %q: want 64 hex digits", truncate(s, 80))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, ErrBadRequest.Wrapf("transaction hash %q: want 64 hex digits", truncate(s, 80))
	}
	if h == (contractsapi.Hash{}) {
		return h, ErrBadRequest.Wrapf("transaction hash of zeros: no transaction has it")
	}
	return h, nil
}

// parseReceiptRef reads the command a receipt path names: {seq} or
// tx/{hash}.
func parseReceiptRef(path string) (workerwire.ReceiptRef, error) {
	if rest, ok := strings.CutPrefix(path, workerwire.PathReceiptsTx); ok {
		h, err := parseTxHash(rest)
		return workerwire.ByTx(h), err
	}
	seq, err := parseSeq(strings.TrimPrefix(path, workerwire.PathReceipts))
	return workerwire.BySeq(seq), err
}

// receiptHandler serves GET /v1/receipts/{seq} and
// /v1/receipts/tx/{hash}: the receipt sealed to the command's reply key
// (or plain, for a command that never opened) and signed by the worker
// (workerwire.SignedReceipt).
func receiptHandler(rt Runtime) http.HandlerFunc {
	rs, _ := rt.(ReceiptServer)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writePublicError(w, ErrMethod.Wrapf("%s %s", r.Method, r.URL.Path))
			return
		}
		ref, err := parseReceiptRef(r.URL.Path)
		if err != nil {
			writePublicError(w, err)
			return
		}
		if rs == nil {
			writePublicError(w, ErrNoReceipt.Wrapf("%s: this runtime runs no contracts", ref))
			return
		}
		var out workerwire.SignedReceipt
		var ok bool
		if ref.TxHash != (contractsapi.Hash{}) {
			out, ok, err = rs.ReceiptByTx(ref.TxHash)
		} else {
			out, ok, err = rs.Receipt(ref.Seq)
		}
		switch {
		case err != nil:
			writePublicError(w, err)
		case !ok:
			writePublicError(w, ErrNoReceipt.Wrapf("%s: not executed by this worker (yet)", ref))
		default:
			writeJSON(w, http.StatusOK, out)
		}
	}
}
