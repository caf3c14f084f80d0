package api

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// receiptRuntime serves two receipts, sealed or plain and signed like the
// enclave: command 42's (opened, sealed to reply) and command 44's (it
// never opened: plain).
type receiptRuntime struct {
	fakeRuntime
	identity ed25519.PrivateKey
	reply    hpke.PrivateKey
	receipt  workerwire.Receipt
	plain    workerwire.Receipt
}

func (r *receiptRuntime) serve(rec workerwire.Receipt) (workerwire.SignedReceipt, bool, error) {
	var key []byte
	if rec.Status == contractsapi.StatusOK {
		key = r.reply.PublicKey().Bytes()
	}
	s, err := workerwire.SealReceipt("fake", 9, key, rec, r.identity)
	return s, err == nil, err
}

func (r *receiptRuntime) Receipt(seq uint64) (workerwire.SignedReceipt, bool, error) {
	for _, rec := range []workerwire.Receipt{r.receipt, r.plain} {
		if rec.Seq == seq {
			return r.serve(rec)
		}
	}
	return workerwire.SignedReceipt{}, false, nil
}

func (r *receiptRuntime) ReceiptByTx(tx contractsapi.Hash) (workerwire.SignedReceipt, bool, error) {
	for _, rec := range []workerwire.Receipt{r.receipt, r.plain} {
		if rec.TxHash == tx {
			return r.serve(rec)
		}
	}
	return workerwire.SignedReceipt{}, false, nil
}

func newReceiptRuntime(t *testing.T) *receiptRuntime {
	t.Helper()
	_, id, _ := ed25519.GenerateKey(nil)
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	return &receiptRuntime{identity: id, reply: reply,
		receipt: workerwire.Receipt{Seq: 42, Height: 7, Status: contractsapi.StatusOK, GasUsed: 1234, Output: []byte(`"990"`),
			Events: []workerwire.ReceiptEvent{{Topic: "transfer", Data: []byte("x")}}, TxHash: contractsapi.Hash{42}, Generation: 1},
		plain: workerwire.Receipt{Seq: 44, Height: 8, Status: contractsapi.StatusNoKey, TxHash: contractsapi.Hash{44}, Generation: 3},
	}
}

type publicError struct {
	Module  string `json:"module"`
	Code    uint32 `json:"code"`
	Message string `json:"message"`
}

func getReceipt(t *testing.T, h http.Handler, method, path string) (*httptest.ResponseRecorder, workerwire.SignedReceipt, publicError) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	var s workerwire.SignedReceipt
	var e publicError
	if w.Code == 200 {
		if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	} else if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("%s: %d %q: %v", path, w.Code, w.Body, err)
	}
	return w, s, e
}

func TestReceiptFound(t *testing.T) {
	rt := newReceiptRuntime(t)
	for _, ref := range []workerwire.ReceiptRef{workerwire.BySeq(42), workerwire.ByTx(contractsapi.Hash{42})} {
		t.Run(ref.String(), func(t *testing.T) {
			w, s, _ := getReceipt(t, NewPublicHandler(rt), http.MethodGet, ref.Path())
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			r, err := s.Open("fake", ref, rt.reply)
			if err != nil {
				t.Fatal(err)
			}
			if r.Seq != 42 || r.TxHash != (contractsapi.Hash{42}) || r.Status != contractsapi.StatusOK || r.GasUsed != 1234 || string(r.Output) != `"990"` || len(r.Events) != 1 || s.Height != 9 || len(s.Plain) != 0 {
				t.Fatalf("receipt %+v at %d", r, s.Height)
			}
			if string(s.Worker) != string(rt.identity.Public().(ed25519.PublicKey)) {
				t.Fatal("the answer does not name the worker")
			}
			// A stranger's key does not open it, nor does none; a changed
			// height, chain, command or transaction does not verify.
			stranger, _ := envelope.GenerateKey(envelope.Default)
			if _, err := s.Open("fake", ref, stranger); !errors.Is(err, workerwire.ErrOpen) {
				t.Fatalf("a stranger's key: %v", err)
			}
			if _, err := s.Open("fake", ref, nil); !errors.Is(err, workerwire.ErrOpen) {
				t.Fatalf("no key: %v", err)
			}
			bad := s
			bad.Height++
			if _, err := bad.Open("fake", ref, rt.reply); !errors.Is(err, workerwire.ErrSignature) {
				t.Fatalf("a changed height: %v", err)
			}
			if _, err := s.Open("other", ref, rt.reply); !errors.Is(err, workerwire.ErrMismatch) {
				t.Fatalf("another chain's answer: %v", err)
			}
			for _, other := range []workerwire.ReceiptRef{workerwire.BySeq(43), workerwire.ByTx(contractsapi.Hash{43})} {
				if _, err := s.Open("fake", other, rt.reply); !errors.Is(err, workerwire.ErrMismatch) {
					t.Fatalf("answer for %s: %v", other, err)
				}
			}
		})
	}
}

// TestPlainReceipt: a command that never opened gets its receipt unsealed
// (status, generation, no gas), readable without a key; it still carries
// the worker's signature over what it says.
func TestPlainReceipt(t *testing.T) {
	rt := newReceiptRuntime(t)
	ref := workerwire.ByTx(contractsapi.Hash{44})
	w, s, _ := getReceipt(t, NewPublicHandler(rt), http.MethodGet, ref.Path())
	if w.Code != 200 || len(s.Plain) == 0 || len(s.Sealed) != 0 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	r, err := s.Open("fake", ref, nil)
	if err != nil || r.Seq != 44 || r.Status != contractsapi.StatusNoKey || r.GasUsed != 0 || r.Generation != 3 {
		t.Fatalf("receipt %+v (%v)", r, err)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "key generation 3") {
		t.Fatalf("Err: %v", err)
	}
	forged := s
	forged.Plain = codec.MustMarshal(workerwire.Receipt{Seq: 44, Height: 8, Status: contractsapi.StatusUndecryptable, TxHash: contractsapi.Hash{44}})
	if _, err := forged.Open("fake", ref, nil); !errors.Is(err, workerwire.ErrSignature) {
		t.Fatalf("an edited plain receipt: %v", err)
	}
}

func TestReceiptNotFound(t *testing.T) {
	h := NewPublicHandler(newReceiptRuntime(t))
	w, _, e := getReceipt(t, h, http.MethodGet, workerwire.ReceiptPath(43))
	if w.Code != 404 || e.Module != Module || e.Code != 13 || !strings.Contains(e.Message, "command 43") {
		t.Fatalf("%d %+v", w.Code, e)
	}
	// A runtime that runs no contracts has no receipts either.
	w, _, e = getReceipt(t, NewPublicHandler(&fakeRuntime{}), http.MethodGet, workerwire.ReceiptPath(42))
	if w.Code != 404 || e.Code != 13 {
		t.Fatalf("no contracts: %d %+v", w.Code, e)
	}
}

func TestReceiptMalformedSeq(t *testing.T) {
	h := NewPublicHandler(newReceiptRuntime(t))
	for _, seq := range []string{"", "x", "-1", "+1", "042", "1.5", "18446744073709551616", "99999999999999999999999", "1%2F2", "0x2a"} {
		w, _, e := getReceipt(t, h, http.MethodGet, workerwire.PathReceipts+seq)
		if w.Code != 400 || e.Module != Module || e.Code != 12 {
			t.Errorf("seq %q: %d %+v", seq, w.Code, e)
		}
	}
	for _, tx := range []string{"", "2a", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("g", 64), "0x" + strings.Repeat("0", 62), strings.Repeat("0", 64) + "/1"} {
		w, _, e := getReceipt(t, h, http.MethodGet, workerwire.PathReceiptsTx+tx)
		if w.Code != 400 || e.Module != Module || e.Code != 12 {
			t.Errorf("tx %q: %d %+v", tx, w.Code, e)
		}
	}
	if w, _, e := getReceipt(t, h, http.MethodGet, workerwire.ReceiptTxPath(contractsapi.Hash{43})); w.Code != 404 || e.Code != 13 || !strings.Contains(e.Message, "transaction") {
		t.Fatalf("unknown transaction: %d %+v", w.Code, e)
	}
	if w, _, e := getReceipt(t, h, http.MethodPost, workerwire.ReceiptPath(42)); w.Code != 405 || e.Code != 3 {
		t.Fatalf("POST: %d %+v", w.Code, e)
	}
}

// A receipt request carries no body: one is refused before the handler.
func TestReceiptBodyRefused(t *testing.T) {
	s, err := Listen("127.0.0.1:0", NewPublicHandler(newReceiptRuntime(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	req, _ := http.NewRequest(http.MethodGet, s.URL()+workerwire.ReceiptPath(42), strings.NewReader(strings.Repeat("x", 1024)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("GET with a body: %d", resp.StatusCode)
	}
	resp, err = http.Get(s.URL() + workerwire.ReceiptPath(42))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

// FuzzParseReceiptRef: any path parses to a command or is refused with
// ErrBadRequest; what parses prints back to the same path.
func FuzzParseReceiptRef(f *testing.F) {
	for _, p := range []string{workerwire.ReceiptPath(42), workerwire.ReceiptTxPath(contractsapi.Hash{1}), workerwire.PathReceiptsTx + "zz", workerwire.PathReceipts + "042"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if !strings.HasPrefix(path, workerwire.PathReceipts) {
			return
		}
		ref, err := parseReceiptRef(path)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("%q: %v", path, err)
			}
			return
		}
		if got := ref.Path(); !strings.EqualFold(got, path) {
			t.Fatalf("%q parsed to %s, whose path is %q", path, ref, got)
		}
	})
}
