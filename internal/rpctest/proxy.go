package rpctest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/phala-go/phala/chain/chainapi"
	"github.com/phala-go/phala/cometrpc"
)

// Call is the part of a JSON-RPC request a Rewrite looks at.
type Call struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// Rewrite changes one answer's result; nil leaves it as the node gave it.
type Rewrite func(call Call, result json.RawMessage) json.RawMessage

// Proxy stands between a client and a node and rewrites single (not
// batched) JSON-RPC answers: an untrusted node, or a network path, that
// lies.
type Proxy struct {
	node string
	mu   sync.Mutex
	fn   Rewrite
}

// StartProxy serves a proxy to node until the test ends and returns it
// with its URL. It passes everything until Set gives it a rewrite.
func StartProxy(t testing.TB, node string) (*Proxy, string) {
	p := &Proxy{node: node}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// Set makes later answers go through fn (nil: pass them).
func (p *Proxy) Set(fn Rewrite) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn = fn
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

func (p *Proxy) rewrite(req, answer []byte) []byte {
	p.mu.Lock()
	fn := p.fn
	p.mu.Unlock()
	var call Call
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

// QueryParams are abci_query's parameters as cometrpc sends them.
type QueryParams struct {
	Path   string `json:"path"`
	Data   string `json:"data"`
	Height string `json:"height"`
	Prove  bool   `json:"prove"`
}

// StateAnswers rewrites chain/state answers with change, given the height
// asked; other calls pass.
func StateAnswers(t testing.TB, change func(height int64, q *cometrpc.QueryResponse)) Rewrite {
	return func(call Call, result json.RawMessage) json.RawMessage {
		var p QueryParams
		if call.Method != "abci_query" || json.Unmarshal(call.Params, &p) != nil || p.Path != chainapi.QueryState {
			return nil
		}
		q, err := cometrpc.DecodeABCIQuery(result)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return nil
		}
		h, _ := strconv.ParseInt(p.Height, 10, 64)
		change(h, &q)
		out, _ := json.Marshal(map[string]any{"response": q})
		return out
	}
}
