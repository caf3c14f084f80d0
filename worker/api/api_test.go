package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/relay"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/lightclient"
)

// fakeRuntime records what the handlers hand it.
type fakeRuntime struct {
	mu       sync.Mutex
	applied  int
	applyErr error
	evidence *relaywire.Evidence
}

func (f *fakeRuntime) Status() relaywire.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return relaywire.Status{Version: relaywire.Version, ChainID: "fake", Height: int64(f.applied), StateHash: []byte{1}, IdentityKey: bytes.Repeat([]byte{7}, 32), EncryptionKey: []byte{8}, Role: 1}
}

func (f *fakeRuntime) Apply(relaywire.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applyErr != nil {
		return f.applyErr
	}
	f.applied++
	return nil
}

func (f *fakeRuntime) refuse(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applyErr = err
}

func (f *fakeRuntime) Outbox() relaywire.Outbox {
	return relaywire.Outbox{Version: relaywire.Version, Messages: []mq.SignedEgress{{Egress: mq.Egress{Version: 1, Seq: 1, Topic: "t"}}}}
}

func (f *fakeRuntime) Evidence(op address.Address) (relaywire.Evidence, error) {
	ev := relaywire.Evidence{Version: relaywire.Version, Role: 1, AnchorHeight: 3, AnchorHash: op.Bytes(), Quote: []byte("quote")}
	f.mu.Lock()
	f.evidence = &ev
	f.mu.Unlock()
	return ev, nil
}

func (f *fakeRuntime) LastEvidence() (relaywire.Evidence, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.evidence == nil {
		return relaywire.Evidence{}, false
	}
	return *f.evidence, true
}

// testSecret is a relay API token for the tests; testToken is it parsed.
const testSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

var testToken, _ = ParseToken(testSecret)

func validBatch() []byte {
	return codec.MustMarshal(relaywire.Batch{Version: relaywire.Version, Blocks: []relaywire.Block{{Header: []byte{1}, Parent: mq.Block{Height: 1}}}, Commit: []byte{2}})
}

func TestRelayAPIRefusesBadRequests(t *testing.T) {
	wrongHeight := &fakeRuntime{applyErr: lightclient.ErrWrongHeight.Wrapf("got 9, want 2")}
	extra := codec.MustMarshal([]any{relaywire.Version, []any{}, []byte{}, []byte{}, "extra"})
	tests := []struct {
		name        string
		rt          *fakeRuntime
		method      string
		path        string
		contentType string
		body        []byte
		status      int
		want        *errs.Error
	}{
		{"GET on blocks", nil, http.MethodGet, relaywire.PathBlocks, "", nil, 405, ErrMethod},
		{"POST on status", nil, http.MethodPost, relaywire.PathStatus, relaywire.ContentType, nil, 405, ErrMethod},
		{"garbage batch", nil, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType, []byte("garbage"), 400, ErrBadBody},
		{"empty batch body", nil, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType, nil, 400, ErrBadBody},
		{"batch with an extra field", nil, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType, extra, 400, ErrBadBody},
		{"batch with trailing bytes", nil, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType, append(validBatch(), 0), 400, ErrBadBody},
		{"batch of another version", nil, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType,
			codec.MustMarshal(relaywire.Batch{Version: 2}), 400, ErrBadBody},
		{"batch as JSON", nil, http.MethodPost, relaywire.PathBlocks, "application/json", []byte("{}"), 415, ErrContentType},
		{"batch too large", nil, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType, make([]byte, MaxBatchBody+1), 413, ErrTooLarge},
		{"batch refused by the light client", wrongHeight, http.MethodPost, relaywire.PathBlocks, relaywire.ContentType, validBatch(), 422, lightclient.ErrWrongHeight},
		{"operator of 3 bytes", nil, http.MethodPost, relaywire.PathEvidence, relaywire.ContentType,
			codec.MustMarshal(relaywire.EvidenceRequest{Version: relaywire.Version, Operator: []byte{1, 2, 3}}), 400, ErrBadBody},
		{"evidence request too large", nil, http.MethodPost, relaywire.PathEvidence, relaywire.ContentType, make([]byte, MaxEvidenceBody+1), 413, ErrTooLarge},
		{"unknown path", nil, http.MethodGet, "/v1/nothing", "", nil, 404, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := tc.rt
			if rt == nil {
				rt = &fakeRuntime{}
			}
			req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Authorization", testToken.Header())
			w := httptest.NewRecorder()
			NewRelayHandler(rt, testToken).ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var e relaywire.Error
			if err := codec.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body does not decode: %v", err)
			}
			if e.Module != tc.want.Module || e.Code != tc.want.Code || e.Message == "" {
				t.Fatalf("error %+v, want %s/%d", e, tc.want.Module, tc.want.Code)
			}
			if rt.applied != 0 {
				t.Fatal("a refused request reached the runtime")
			}
		})
	}
}

// TestRelayClientRoundTrip drives the servers with the relay's client.
func TestRelayClientRoundTrip(t *testing.T) {
	rt := &fakeRuntime{}
	srv, err := Listen("127.0.0.1:0", NewRelayHandler(rt, testToken))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := relay.NewHTTPRuntime(srv.URL(), testSecret)
	b, err := DecodeBatch(validBatch())
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Feed(ctx, b)
	if err != nil || st.Height != 1 || st.ChainID != "fake" {
		t.Fatalf("feed: %+v %v", st, err)
	}
	if st, err := c.Status(ctx); err != nil || st.Height != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if ob, err := c.Outbox(ctx); err != nil || len(ob.Messages) != 1 {
		t.Fatalf("outbox: %+v %v", ob, err)
	}
	op := address.Module("operator")
	if ev, err := c.Evidence(ctx, op); err != nil || !bytes.Equal(ev.AnchorHash, op.Bytes()) {
		t.Fatalf("evidence: %+v %v", ev, err)
	}
	rt.refuse(enclave.ErrClosed)
	var refused *relay.Refused
	if _, err := c.Feed(ctx, b); !errors.Is(err, enclave.ErrClosed) || !errors.As(err, &refused) {
		t.Fatalf("feed to a closed runtime: %v", err)
	}
	rt.refuse(lightclient.ErrAppHash.Wrapf("forged"))
	if _, err := c.Feed(ctx, b); !errors.Is(err, lightclient.ErrAppHash) || !strings.Contains(err.Error(), "forged") {
		t.Fatalf("refusal not rebuilt: %v", err)
	}
	dead := relay.NewHTTPRuntime("http://127.0.0.1:1", testSecret)
	if _, err := dead.Status(ctx); err == nil || errors.As(err, &refused) {
		t.Fatalf("unreachable runtime: %v", err)
	}
}

func TestListenOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "8.8.8.8:0", ":0", "example.com:80", "garbage"} {
		if _, err := Listen(addr, http.NotFoundHandler()); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		s, err := Listen(addr, http.NotFoundHandler())
		if err != nil {
			t.Logf("%s: %v (no such interface here?)", addr, err)
			continue
		}
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("%s close: %v", addr, err)
		}
	}
}

func TestPublicAPI(t *testing.T) {
	rt := &fakeRuntime{}
	h := NewPublicHandler(rt)
	get := func(path string, out any) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if out != nil {
			if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return w.Code
	}
	var st StatusJSON
	if code := get(PublicPathStatus, &st); code != 200 || st.ChainID != "fake" || st.IdentityKey != strings.Repeat("07", 32) || st.Role != "worker" {
		t.Fatalf("status %d %+v", code, st)
	}
	var at AttestationJSON
	if code := get(PublicPathAttestation, &at); code != 200 || at.Quote != "" {
		t.Fatalf("attestation before evidence: %d %+v", code, at)
	}
	rt.Evidence(address.Module("x"))
	if code := get(PublicPathAttestation, &at); code != 200 || at.Quote != "71756f7465" || at.AnchorHeight != 3 {
		t.Fatalf("attestation: %d %+v", code, at)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, PublicPathStatus, nil))
	if w.Code != 405 {
		t.Fatalf("POST status: %d", w.Code)
	}
	if code := get("/v1/nothing", nil); code != 404 {
		t.Fatalf("unknown path: %d", code)
	}
}

// FuzzFeedBody feeds arbitrary bytes to the blocks endpoint: the decoder
// must never panic, a body it accepts must re-encode to a value that
// decodes alike, and every refusal must be a decodable relaywire.Error.
func FuzzFeedBody(f *testing.F) {
	f.Add(validBatch())
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Add(codec.MustMarshal(relaywire.Batch{Version: relaywire.Version}))
	f.Add([]byte{0x84, 0x01, 0x9f, 0xff, 0x40, 0xf6}) // indefinite-length array
	h := NewRelayHandler(&fakeRuntime{}, testToken)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBatch(body)
		if err == nil {
			again, err := DecodeBatch(codec.MustMarshal(b))
			if err != nil || !bytes.Equal(codec.MustMarshal(again), codec.MustMarshal(b)) {
				t.Fatalf("accepted batch does not round-trip: %v", err)
			}
		}
		req := httptest.NewRequest(http.MethodPost, relaywire.PathBlocks, bytes.NewReader(body))
		req.Header.Set("Content-Type", relaywire.ContentType)
		req.Header.Set("Authorization", testToken.Header())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch {
		case w.Code == 200 && err != nil:
			t.Fatal("the handler accepted a body the decoder refuses")
		case w.Code != 200:
			var e relaywire.Error
			if derr := codec.Unmarshal(w.Body.Bytes(), &e); derr != nil || e.Code == 0 {
				t.Fatalf("refusal %d is not a relaywire.Error: %v", w.Code, derr)
			}
		}
	})
}

// FuzzEvidenceBody decodes arbitrary evidence requests: no panic, and an
// accepted one names a full-length operator.
func FuzzEvidenceBody(f *testing.F) {
	f.Add(codec.MustMarshal(relaywire.EvidenceRequest{Version: relaywire.Version, Operator: make([]byte, 20)}))
	f.Add(codec.MustMarshal(relaywire.EvidenceRequest{Version: relaywire.Version, Operator: []byte{1}}))
	f.Add([]byte{0x82, 0x01})
	f.Fuzz(func(t *testing.T, body []byte) {
		op, err := DecodeEvidenceRequest(body)
		if err == nil && len(op.Bytes()) != 20 {
			t.Fatalf("accepted an operator of %d bytes", len(op.Bytes()))
		}
	})
}

// keyRuntime also reports keys.
type keyRuntime struct {
	fakeRuntime
	ks enclave.KeyStatus
}

func (k *keyRuntime) KeyStatus() enclave.KeyStatus { return k.ks }

func TestPublicStatusShowsKeys(t *testing.T) {
	tests := []struct {
		name string
		rt   Runtime
		want string
	}{
		{"a runtime without keys", &fakeRuntime{}, `"registered":false}`},
		{"a runtime with keys", &keyRuntime{ks: enclave.KeyStatus{
			MasterGenerations: []uint32{1, 2},
			Clusters:          []enclave.ClusterGen{{Cluster: "c1", Generation: 2}},
			MasterPublics:     []keysapi.MasterPublic{{Generation: 1, PublicKey: []byte{0xab}}},
		}}, `"master_generations":[1,2],"clusters":[{"cluster":"c1","generation":2}],"master_public_keys":[{"generation":1,"public_key":"ab"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			NewPublicHandler(tc.rt).ServeHTTP(w, httptest.NewRequest(http.MethodGet, PublicPathStatus, nil))
			if body := strings.TrimSpace(w.Body.String()); w.Code != 200 || !strings.HasSuffix(body, tc.want) {
				t.Fatalf("status %d: %s", w.Code, body)
			}
		})
	}
}
