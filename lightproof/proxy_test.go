package lightproof_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// rpcCall is the part of a JSON-RPC request the proxy looks at.
type rpcCall struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// rewrite changes one answer's result (nil: leave it).
type rewrite func(call rpcCall, result json.RawMessage) json.RawMessage

// proxy stands between a client and a node and rewrites single (not
// batched) JSON-RPC answers: an untrusted node, or a network path, that
// lies.
type proxy struct {
	node string
	mu   sync.Mutex
	fn   rewrite
}

func startProxy(t *testing.T, node string) (*proxy, string) {
	p := &proxy{node: node}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *proxy) set(fn rewrite) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn = fn
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := http.Post(p.node, "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(p.rewrite(body, answer))
}

func (p *proxy) rewrite(req, answer []byte) []byte {
	p.mu.Lock()
	fn := p.fn
	p.mu.Unlock()
	var call rpcCall
	if fn == nil || json.Unmarshal(req, &call) != nil {
		return answer // batches and the honest cases pass as they are
	}
	var a map[string]json.RawMessage
	if json.Unmarshal(answer, &a) != nil || a["result"] == nil {
		return answer
	}
	changed := fn(call, a["result"])
	if changed == nil {
		return answer
	}
	a["result"] = changed
	out, _ := json.Marshal(a)
	return out
}
