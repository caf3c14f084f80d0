package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/phala-go/phala/relay"
)

// The metrics server is bounded like the runtime's: on loopback it answers
// only its own names, and a scrape carries no body.
func TestMetricsServerLimits(t *testing.T) {
	srv, err := serveMetrics("127.0.0.1:0", relay.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	if srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.ReadHeaderTimeout == 0 {
		t.Fatalf("metrics server without timeouts: %+v", srv.Server)
	}
	get := func(host string, body io.Reader) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.url, body)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("", nil); code != http.StatusOK {
		t.Fatalf("scrape: %d", code)
	}
	if code, body := get("evil.example", nil); code != http.StatusMisdirectedRequest || !strings.HasPrefix(body, "workerapi/21:") {
		t.Fatalf("Host evil.example: %d %q", code, body)
	}
	if code, body := get("", strings.NewReader("x")); code != http.StatusRequestEntityTooLarge || !strings.HasPrefix(body, "workerapi/2:") {
		t.Fatalf("a body on a scrape: %d %q", code, body)
	}
}
