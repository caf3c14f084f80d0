package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/workerwire"
)

// eventsRuntime answers events requests as told and counts them.
type eventsRuntime struct {
	fakeRuntime
	err   error
	calls int
}

func (e *eventsRuntime) Events(req workerwire.EventsRequest) (workerwire.SignedEventsReply, error) {
	e.calls++
	if e.err != nil {
		return workerwire.SignedEventsReply{}, e.err
	}
	return workerwire.SignedEventsReply{ChainID: "fake", Height: 5, Nonce: req.Nonce}, nil
}

func postEvents(h http.Handler, method, ct string, body []byte) (*httptest.ResponseRecorder, publicError) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(method, workerwire.PathEvents, bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	h.ServeHTTP(w, r)
	var e publicError
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return w, e
}

func eventsBody() []byte {
	b, _ := json.Marshal(workerwire.EventsRequest{Account: bytes.Repeat([]byte{1}, 32), Nonce: bytes.Repeat([]byte{2}, 16), Expiry: 9, ReplyKey: []byte{3}, Signature: []byte{4}})
	return b
}

// TestEventsRoute: a well-formed request reaches the runtime and its
// answer comes back as JSON; the runtime's refusals get the queries'
// statuses; what the route refuses itself never reaches the runtime.
func TestEventsRoute(t *testing.T) {
	rt := &eventsRuntime{}
	h := NewPublicHandler(rt)
	w, _ := postEvents(h, http.MethodPost, "application/json", eventsBody())
	var out workerwire.SignedEventsReply
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &out) != nil || out.Height != 5 || len(out.Nonce) != 16 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for _, tc := range []struct {
		err    error
		status int
	}{
		{enclave.ErrQueryMalformed.Wrapf("x"), 400},
		{enclave.ErrQuerySignature.Wrapf("x"), 403},
		{enclave.ErrQueryReplayed.Wrapf("x"), 409},
		{enclave.ErrQueryExpired.Wrapf("x"), 410},
		{enclave.ErrQueryRate.Wrapf("x"), 429},
		{enclave.ErrClosed, 503},
	} {
		rt.err = tc.err
		if w, e := postEvents(h, http.MethodPost, "application/json", eventsBody()); w.Code != tc.status || e.Module == "" {
			t.Errorf("%v: %d %+v, want %d", tc.err, w.Code, e, tc.status)
		}
	}
	rt.err, rt.calls = nil, 0
	for _, tc := range []struct {
		name, method, ct string
		body             []byte
		status           int
	}{
		{"GET", http.MethodGet, "application/json", nil, 405},
		{"content type", http.MethodPost, "text/plain", eventsBody(), 415},
		{"not JSON", http.MethodPost, "application/json", []byte("{"), 400},
		{"unknown field", http.MethodPost, "application/json", []byte(`{"account":"","extra":1}`), 400},
		{"two objects", http.MethodPost, "application/json", append(eventsBody(), eventsBody()...), 400},
		{"too large", http.MethodPost, "application/json", []byte(`{"account":"` + strings.Repeat("A", workerwire.MaxEventsBody) + `"}`), 413},
	} {
		if w, _ := postEvents(h, tc.method, tc.ct, tc.body); w.Code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.status)
		}
	}
	if rt.calls != 0 {
		t.Fatalf("%d refused requests reached the runtime", rt.calls)
	}
	// A runtime without contracts has no events to give.
	if w, _ := postEvents(NewPublicHandler(&fakeRuntime{}), http.MethodPost, "application/json", eventsBody()); w.Code != 404 {
		t.Fatalf("no contracts: %d", w.Code)
	}
}

// FuzzEventsRoute: any body gets an answer of a known status, never a
// panic or a 5xx.
func FuzzEventsRoute(f *testing.F) {
	f.Add(eventsBody())
	f.Add([]byte(`{"account":"AQ==","contract":"00"}`))
	f.Add([]byte(`[]`))
	h := NewPublicHandler(&eventsRuntime{})
	f.Fuzz(func(t *testing.T, body []byte) {
		w, _ := postEvents(h, http.MethodPost, "application/json", body)
		switch w.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
