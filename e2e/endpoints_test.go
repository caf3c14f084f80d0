//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWorkersEndpointsOnChain: the devnet's workers publish their public
// API on chain; `phala query workers --cluster default` lists them with
// those URLs, each answering its status with the identity key the chain
// lists; `phala contract params` shows the expiry timeouts.
func TestWorkersEndpointsOnChain(t *testing.T) {
	skipShort(t)
	c := newCLI(t)
	d := startDevnet(t, c)
	url := d.url()
	var listed struct {
		Cluster string `json:"cluster"`
		Workers []struct {
			IdentityKey string `json:"identity_key"`
			Active      bool   `json:"active"`
			URL         string `json:"url"`
		} `json:"workers"`
	}
	waitFor(t, 60*time.Second, "both devnet workers' endpoints on chain", func() (bool, string, error) {
		if err := d.srv.checkAlive(); err != nil {
			return false, "", err
		}
		r := c.run("query", "workers", "--cluster", "default", "--node", url, "--output", "json")
		if err := r.decode(&listed); err != nil {
			return false, err.Error(), nil
		}
		n := 0
		for _, w := range listed.Workers {
			if w.Active && w.URL != "" {
				n++
			}
		}
		return n == 2 && len(listed.Workers) == 2, fmt.Sprintf("%+v", listed), nil
	})
	for _, w := range listed.Workers {
		resp, err := http.Get(w.URL + "/v1/status")
		if err != nil {
			t.Fatalf("%s: %v", w.URL, err)
		}
		var st struct {
			IdentityKey string `json:"identity_key"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || st.IdentityKey != w.IdentityKey {
			t.Fatalf("%s answers identity %q (%v), the chain lists %s", w.URL, st.IdentityKey, err, w.IdentityKey)
		}
	}
	if r := c.run("query", "workers", "--cluster", "nope", "--node", url); r.ok() || !strings.Contains(r.stderr, "nope") {
		t.Fatalf("an unknown cluster:\n%s", r)
	}
	var params struct {
		Results uint64 `json:"results_timeout_blocks"`
		Upload  uint64 `json:"upload_timeout_blocks"`
	}
	c.mustJSON(&params, "contract", "params", "--node", url, "--output", "json")
	if params.Results == 0 || params.Upload == 0 {
		t.Fatalf("params %+v", params)
	}
	if r := c.run("contract", "params", "--node", url); !r.ok() || !strings.Contains(r.stdout, "results timeout") {
		t.Fatalf("params text:\n%s", r)
	}
}
