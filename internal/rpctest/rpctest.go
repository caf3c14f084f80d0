// Package rpctest calls a CometBFT node's RPC the way any HTTP client on
// the network could, for tests of what a node exposes, and stands a lying
// proxy between a client and a node (Proxy). Test support only:
// no program links it (internal/archtest).
package rpctest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ErrorOf calls CometBFT's URI form of JSON-RPC (call is "method?args")
// at base and returns the error's message and data, or "" on success.
func ErrorOf(t testing.TB, base, call string) string {
	t.Helper()
	method, query, _ := strings.Cut(call, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(base + "/" + method + "?" + q.Encode())
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	defer resp.Body.Close()
	var body struct {
		Error *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	if body.Error == nil {
		return ""
	}
	return body.Error.Message + ": " + body.Error.Data
}
