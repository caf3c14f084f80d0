package contracts_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// TestClusterWorkersQuery: a cluster's workers come in assignment order
// with their standing, the endpoint each published (none: empty) and its
// height; a stranger's endpoint is not listed; an unknown cluster is not
// found.
func TestClusterWorkersQuery(t *testing.T) {
	rn := newResultsNet(t)
	for _, w := range []struct {
		node apptest.TEENode
		url  string
	}{{rn.w1, "http://127.0.0.1:9001"}, {rn.stranger, "http://127.0.0.1:9003"}} {
		msg := apptest.Egress(w.node, rn.EgressSeq(w.node)+1, registryapi.TopicEndpoint, codec.MustMarshal(registryapi.Endpoint{URL: w.url}))
		if r := rn.Block(rn.Submit(apptest.Alice, msg)).TxResults[0]; !apptest.HasEvent(r.Events, mq.EventAccepted) {
			t.Fatalf("endpoint of %s: %v", w.url, apptest.Rejection(r.Events))
		}
	}
	published := rn.Height - 1
	var got []contractsapi.ClusterWorker
	if err := rn.Query(contractsapi.QueryWorkers, []byte("default"), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0].IdentityKey, rn.w1.Pub()) || !bytes.Equal(got[1].IdentityKey, rn.w2.Pub()) {
		t.Fatalf("workers %+v", got)
	}
	if w := got[0]; !w.Active || w.URL != "http://127.0.0.1:9001" || w.EndpointHeight != published {
		t.Fatalf("first worker %+v, want its endpoint of height %d", w, published)
	}
	if w := got[1]; !w.Active || w.URL != "" || w.EndpointHeight != 0 {
		t.Fatalf("second worker %+v, want no endpoint", w)
	}
	if err := rn.Query(contractsapi.QueryWorkers, []byte("nope"), &got); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("unknown cluster: %v", err)
	}
}
