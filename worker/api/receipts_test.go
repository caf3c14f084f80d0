package api

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// receiptRuntime serves one receipt, sealed and signed like the enclave.
type receiptRuntime struct {
	fakeRuntime
	identity ed25519.PrivateKey
	reply    hpke.PrivateKey
	receipt  workerwire.Receipt
}

func (r *receiptRuntime) Receipt(seq uint64) (workerwire.SignedReceipt, bool, error) {
	if seq != r.receipt.Seq {
		return workerwire.SignedReceipt{}, false, nil
	}
	s, err := workerwire.SealReceipt("fake", 9, r.reply.PublicKey().Bytes(), r.receipt, r.identity)
	return s, err == nil, err
}

func newReceiptRuntime(t *testing.T) *receiptRuntime {
	t.Helper()
	_, id, _ := ed25519.GenerateKey(nil)
	reply, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	return &receiptRuntime{identity: id, reply: reply, receipt: workerwire.Receipt{Seq: 42, Height: 7, Status: contractsapi.StatusOK, GasUsed: 1234, Output: []byte(`"990"`),
		Events: []workerwire.ReceiptEvent{{Topic: "transfer", Data: []byte("x")}}}}
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
	w, s, _ := getReceipt(t, NewPublicHandler(rt), http.MethodGet, workerwire.ReceiptPath(42))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	r, err := s.Open("fake", 42, rt.reply)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 42 || r.Status != contractsapi.StatusOK || r.GasUsed != 1234 || string(r.Output) != `"990"` || len(r.Events) != 1 || s.Height != 9 {
		t.Fatalf("receipt %+v at %d", r, s.Height)
	}
	if string(s.Worker) != string(rt.identity.Public().(ed25519.PublicKey)) {
		t.Fatal("the answer does not name the worker")
	}
	// A stranger's key does not open it; a changed height or chain does
	// not verify.
	stranger, _ := envelope.GenerateKey(envelope.Default)
	if _, err := s.Open("fake", 42, stranger); err == nil {
		t.Fatal("a stranger opened the receipt")
	}
	bad := s
	bad.Height++
	if _, err := bad.Open("fake", 42, rt.reply); err == nil {
		t.Fatal("a changed height verified")
	}
	if _, err := s.Open("other", 42, rt.reply); err == nil {
		t.Fatal("another chain's answer verified")
	}
	if _, err := s.Open("fake", 43, rt.reply); err == nil {
		t.Fatal("another command's answer verified")
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
