package cometrpc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// node serves answer with status to every request.
func node(t *testing.T, status int, answer string, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAnswersMapToErrorKinds(t *testing.T) {
	tests := []struct {
		name   string
		status int
		answer string
		opts   []Option
		want   error
	}{
		{"RPC error", 500, `{"jsonrpc":"2.0","id":0,"error":{"code":-32603,"message":"Internal error","data":"tx (00) not found"}}`, nil, ErrRPC},
		{"HTTP error page", 502, `<html>bad gateway</html>`, nil, ErrUnreachable},
		{"not JSON", 200, `hello`, nil, ErrMalformed},
		{"wrong id", 200, `{"jsonrpc":"2.0","id":7,"result":{}}`, nil, ErrMalformed},
		{"no result", 200, `{"jsonrpc":"2.0","id":0}`, nil, ErrMalformed},
		{"wrong version", 200, `{"jsonrpc":"1.0","id":0,"result":{}}`, nil, ErrMalformed},
		{"unquoted height", 200, `{"jsonrpc":"2.0","id":0,"result":{"sync_info":{"latest_block_height":5}}}`, nil, ErrMalformed},
		{"too large", 200, `{"jsonrpc":"2.0","id":0,"result":{}}`, []Option{WithMaxAnswer(10)}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := node(t, tt.status, tt.answer, tt.opts...).Status(context.Background())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNotFoundIsRecognised(t *testing.T) {
	_, err := node(t, 500, `{"jsonrpc":"2.0","id":0,"error":{"code":-32603,"message":"Internal error","data":"tx (00) not found"}}`).Tx(context.Background(), []byte{0})
	rpcErr, ok := errors.AsType[*RPCError](err)
	if !ok || !rpcErr.NotFound() || !strings.Contains(err.Error(), "tx") {
		t.Fatalf("got %v", err)
	}
}

func TestDeadNodeIsUnreachable(t *testing.T) {
	c, err := New("tcp://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("got %v", err)
	}
}

func TestAddressesAreChecked(t *testing.T) {
	for _, addr := range []string{"unix:///tmp/sock", "http://", "::"} {
		if _, err := New(addr); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v", addr, err)
		}
	}
}
