//go:build unix

package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/worker/api"
	"github.com/phala-go/phala/worker/enclave"
)

// TestWorkerRelayAPIRefusesAStranger is issue 12's takeover on a devnet: a
// local process that finds the devnet worker's relay API asks it for
// registration evidence bound to its own account. Without the runtime's
// token it gets 401; even with the token (read from the worker's home) the
// runtime quotes for its pinned operator only; and the devnet's relay has
// registered the worker under that operator, erin.
func TestWorkerRelayAPIRefusesAStranger(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	w := d.info.Worker
	if w.RelayAPI == "" {
		t.Fatalf("the devnet printed no relay API for its worker: %+v", w)
	}
	carol, erin := d.info.address(t, "carol"), d.info.address(t, "erin")
	stranger := address.MustParse(carol)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// No token: the HTTP answer itself is a coded 401.
	status, refusal := postEvidence(t, ctx, w.RelayAPI, "", stranger)
	if status != http.StatusUnauthorized || refusal.Module != api.ErrUnauthorized.Module || refusal.Code != api.ErrUnauthorized.Code {
		t.Fatalf("evidence for a stranger without a token: HTTP %d %+v, want 401 %s/%d", status, refusal, api.ErrUnauthorized.Module, api.ErrUnauthorized.Code)
	}
	for name, tok := range map[string]string{"no token": "", "a guessed token": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"} {
		if _, err := relay.NewHTTPRuntime(w.RelayAPI, tok).Evidence(ctx, stranger); !errors.Is(err, api.ErrUnauthorized) {
			t.Fatalf("%s: evidence for a stranger: %v, want %v", name, err, api.ErrUnauthorized)
		}
		if _, err := relay.NewHTTPRuntime(w.RelayAPI, tok).Status(ctx); !errors.Is(err, api.ErrUnauthorized) {
			t.Fatalf("%s: status: %v, want %v", name, err, api.ErrUnauthorized)
		}
	}

	// The token, but another operator: refused by the enclave.
	tok, err := relay.ReadToken(filepath.Join(d.home, "worker", relaywire.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.NewHTTPRuntime(w.RelayAPI, tok).Evidence(ctx, stranger); !errors.Is(err, enclave.ErrOperator) {
		t.Fatalf("evidence for a stranger with the token: %v, want %v", err, enclave.ErrOperator)
	}
	if status, refusal := postEvidence(t, ctx, w.RelayAPI, tok, stranger); status != http.StatusForbidden || refusal.Code != enclave.ErrOperator.Code {
		t.Fatalf("evidence for a stranger with the token: HTTP %d %+v, want 403", status, refusal)
	}

	// The devnet's own relay registered the worker under its operator.
	if w.Operator != erin {
		t.Fatalf("the devnet's worker is operated by %s, want erin %s", w.Operator, erin)
	}
	var workers []nodeJSON
	c.mustJSON(&workers, "query", "workers", "--node", d.url(), "--output", "json")
	found := false
	for _, n := range workers {
		if n.IdentityKey == w.IdentityKey {
			found = true
			if n.Operator != erin || !n.Active {
				t.Fatalf("the devnet's worker is registered as %+v, want active under erin %s", n, erin)
			}
		}
	}
	if !found {
		t.Fatalf("the devnet's worker %s is not registered: %+v", w.IdentityKey, workers)
	}
}

// postEvidence asks for evidence the way any local process can, with a
// bearer token if tok is not empty, and returns the HTTP status and the
// coded refusal.
func postEvidence(t *testing.T, ctx context.Context, base, tok string, op address.Address) (int, relaywire.Error) {
	t.Helper()
	body := codec.MustMarshal(relaywire.EvidenceRequest{Version: relaywire.Version, Operator: op.Bytes()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+relaywire.PathEvidence, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", relaywire.ContentType)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	var e relaywire.Error
	if resp.StatusCode != http.StatusOK {
		if err := codec.Unmarshal(buf.Bytes(), &e); err != nil {
			t.Fatalf("HTTP %d with an undecodable body: %v", resp.StatusCode, err)
		}
	}
	return resp.StatusCode, e
}
