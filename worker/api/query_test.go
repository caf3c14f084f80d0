package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/workerwire"
)

// queryRuntime answers queries as told; block holds them to fill slots.
type queryRuntime struct {
	fakeRuntime
	err     error
	block   chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	remotes []string
}

func (q *queryRuntime) Query(req workerwire.QueryRequest, remote string) (workerwire.SignedQueryReply, error) {
	q.mu.Lock()
	q.remotes = append(q.remotes, remote)
	q.mu.Unlock()
	if q.block != nil {
		q.entered <- struct{}{}
		<-q.block
	}
	if q.err != nil {
		return workerwire.SignedQueryReply{}, q.err
	}
	return workerwire.SignedQueryReply{ChainID: "fake", Height: 5, Nonce: []byte{1}}, nil
}

func postQueryBody(h http.Handler, ct string, body []byte) (*httptest.ResponseRecorder, publicError) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, workerwire.PathQuery, bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	h.ServeHTTP(w, r)
	var e publicError
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return w, e
}

func queryBody(id contractsapi.Hash) []byte {
	b, _ := json.Marshal(workerwire.QueryRequest{Contract: id, Generation: 1, Sealed: []byte("x")})
	return b
}

func TestQueryRoute(t *testing.T) {
	rt := &queryRuntime{}
	h := NewPublicHandler(rt)
	if w, _ := postQueryBody(h, "application/json", queryBody(contractsapi.Hash{1})); w.Code != 200 {
		t.Fatalf("honest: %d %s", w.Code, w.Body)
	}
	if len(rt.remotes) != 1 || rt.remotes[0] == "" {
		t.Fatalf("remote %q", rt.remotes)
	}
	// Refusals of the enclave map to their statuses.
	for _, tc := range []struct {
		err    error
		status int
	}{
		{enclave.ErrQueryUnknownContract, 404}, {enclave.ErrQueryNoKey, 404}, {enclave.ErrQueryUndecryptable, 400},
		{enclave.ErrQueryMalformed, 400}, {enclave.ErrQueryExpired, 410}, {enclave.ErrQueryReplayed, 409},
		{enclave.ErrQuerySignature, 403}, {enclave.ErrQueryRate, 429},
	} {
		rt.err = tc.err
		if w, e := postQueryBody(h, "application/json", queryBody(contractsapi.Hash{1})); w.Code != tc.status || e.Module != "runtime" {
			t.Errorf("%v: %d %+v", tc.err, w.Code, e)
		}
	}
	rt.err = nil
	if w, e := postQueryBody(h, "text/plain", queryBody(contractsapi.Hash{1})); w.Code != 415 || e.Code != 4 {
		t.Fatalf("content type: %d %+v", w.Code, e)
	}
	for _, body := range []string{"{", `{"contract":"zz"}`, `{"contract":"` + strings.Repeat("00", 32) + `","extra":1}`} {
		if w, e := postQueryBody(h, "application/json", []byte(body)); w.Code != 400 || e.Code != 1 {
			t.Errorf("body %q: %d %+v", body, w.Code, e)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, workerwire.PathQuery, nil))
	if w.Code != 405 {
		t.Fatalf("GET: %d", w.Code)
	}
	// A runtime without contracts knows none.
	if w, e := postQueryBody(NewPublicHandler(&fakeRuntime{}), "application/json", queryBody(contractsapi.Hash{1})); w.Code != 404 || e.Code != 30 {
		t.Fatalf("no contracts: %d %+v", w.Code, e)
	}
}

// One contract gets QueryConcurrency queries at once; another contract
// still gets its own.
func TestQueryContractConcurrency(t *testing.T) {
	rt := &queryRuntime{block: make(chan struct{}), entered: make(chan struct{}, QueryConcurrency+1)}
	h := NewPublicHandler(rt)
	var wg sync.WaitGroup
	for range QueryConcurrency {
		wg.Go(func() { postQueryBody(h, "application/json", queryBody(contractsapi.Hash{1})) })
	}
	for range QueryConcurrency {
		<-rt.entered
	}
	if w, e := postQueryBody(h, "application/json", queryBody(contractsapi.Hash{1})); w.Code != 503 || e.Code != 14 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("over the cap: %d %+v", w.Code, e)
	}
	done := make(chan int)
	go func() {
		w, _ := postQueryBody(h, "application/json", queryBody(contractsapi.Hash{2}))
		done <- w.Code
	}()
	<-rt.entered
	close(rt.block)
	if code := <-done; code != 200 {
		t.Fatalf("another contract: %d", code)
	}
	wg.Wait()
}

// A body over MaxQueryBody is refused before the handler reads it.
func TestQueryTooLarge(t *testing.T) {
	s, err := Listen("127.0.0.1:0", NewPublicHandler(&queryRuntime{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	resp, err := http.Post(s.URL()+workerwire.PathQuery, "application/json", bytes.NewReader(make([]byte, workerwire.MaxQueryBody+1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", resp.StatusCode)
	}
}
