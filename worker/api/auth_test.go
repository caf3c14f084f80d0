package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relaywire"
)

// TestRelayAPIRefusesWithoutTheToken: every relay API path, evidence
// above all, answers 401 with a coded error to a request without the
// runtime's token, and the runtime never sees the request.
func TestRelayAPIRefusesWithoutTheToken(t *testing.T) {
	evidence := codec.MustMarshal(relaywire.EvidenceRequest{Version: relaywire.Version, Operator: address.Module("stranger").Bytes()})
	other, err := ParseToken(strings.Repeat("ab", tokenBytes))
	if err != nil {
		t.Fatal(err)
	}
	auths := map[string]string{
		"no header":        "",
		"another token":    other.Header(),
		"no scheme":        testSecret,
		"basic scheme":     "Basic " + testSecret,
		"token prefix":     "Bearer " + testSecret[:32],
		"token with extra": "Bearer " + testSecret + "0",
		"empty bearer":     "Bearer ",
	}
	requests := []struct {
		method, path string
		body         []byte
	}{
		{http.MethodPost, relaywire.PathEvidence, evidence},
		{http.MethodPost, relaywire.PathBlocks, validBatch()},
		{http.MethodGet, relaywire.PathStatus, nil},
		{http.MethodGet, relaywire.PathEgress, nil},
		{http.MethodGet, "/v1/nothing", nil},
	}
	for name, auth := range auths {
		for _, rq := range requests {
			t.Run(fmt.Sprintf("%s %s %s", name, rq.method, rq.path), func(t *testing.T) {
				rt := &fakeRuntime{}
				w := serve(NewRelayHandler(rt, testToken), rq.method, rq.path, rq.body, auth)
				wantUnauthorized(t, w)
				if rt.applied != 0 || rt.evidence != nil {
					t.Fatal("an unauthenticated request reached the runtime")
				}
				if strings.Contains(w.Body.String(), testSecret) {
					t.Fatal("the refusal repeats the token")
				}
			})
		}
	}
}

// TestRelayAPIAcceptsTheToken: the right token gets evidence.
func TestRelayAPIAcceptsTheToken(t *testing.T) {
	rt := &fakeRuntime{}
	op := address.Module("operator")
	body := codec.MustMarshal(relaywire.EvidenceRequest{Version: relaywire.Version, Operator: op.Bytes()})
	w := serve(NewRelayHandler(rt, testToken), http.MethodPost, relaywire.PathEvidence, body, testToken.Header())
	if w.Code != http.StatusOK || rt.evidence == nil {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// TestZeroTokenRefusesEverything: a handler built without a token fails
// closed, even for a request that sends an empty bearer.
func TestZeroTokenRefusesEverything(t *testing.T) {
	for _, auth := range []string{"", "Bearer ", "Bearer " + testSecret} {
		wantUnauthorized(t, serve(NewRelayHandler(&fakeRuntime{}, Token{}), http.MethodGet, relaywire.PathStatus, nil, auth))
	}
}

func serve(h http.Handler, method, path string, body []byte, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", relaywire.ContentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func wantUnauthorized(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", w.Code, w.Body)
	}
	var e relaywire.Error
	if err := codec.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body does not decode: %v", err)
	}
	if e.Module != ErrUnauthorized.Module || e.Code != ErrUnauthorized.Code {
		t.Fatalf("error %+v, want %s/%d", e, ErrUnauthorized.Module, ErrUnauthorized.Code)
	}
	if w.Header().Get("WWW-Authenticate") == "" {
		t.Fatal("no WWW-Authenticate header")
	}
}

// TestLoadOrCreateToken: the first start creates a private random token,
// later starts read the same one, and a token others can read is refused.
func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", TokenFile)
	tok, err := LoadOrCreateToken(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file %v %v, want mode 0600", info, err)
	}
	again, err := LoadOrCreateToken(path)
	if err != nil || again != tok {
		t.Fatalf("reloaded token differs (%v)", err)
	}
	if other, err := LoadOrCreateToken(filepath.Join(t.TempDir(), TokenFile)); err != nil || other == tok {
		t.Fatalf("two homes share a token (%v)", err)
	}
	if s := fmt.Sprintf("%v %s %#v %+v", tok, tok, tok, tok); strings.Contains(s, tok.secret) {
		t.Fatalf("formatting a token shows its secret: %s", s)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateToken(path); !errors.Is(err, ErrToken) {
		t.Fatalf("world-readable token: %v, want %v", err, ErrToken)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateToken(path); !errors.Is(err, ErrToken) || strings.Contains(err.Error(), "short") {
		t.Fatalf("malformed token: %v", err)
	}
}
