package endpoint_test

import (
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
	et "github.com/phala-go/phala/worker/enclave/enclavetest"
	"github.com/phala-go/phala/worker/enclave/endpoint"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/worker/enclave/registryview"
)

// node is a worker with the endpoint module advertising url.
func node(t *testing.T, url string) (*et.Node, *endpoint.Module) {
	t.Helper()
	var ep *endpoint.Module
	n := et.New(t, et.NewKeys(t, 1), registryapi.RoleWorker, et.Options{More: func(reg *registryview.Module) []module.Module {
		ep = endpoint.New(reg.Registered)
		return []module.Module{ep}
	}})
	if err := ep.Advertise(url); err != nil {
		t.Fatal(err)
	}
	return n, ep
}

func sentURLs(t *testing.T, n *et.Node) []string {
	t.Helper()
	var out []string
	for _, p := range n.Sent(registryapi.TopicEndpoint) {
		var e registryapi.Endpoint
		if err := codec.Unmarshal(p, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.URL)
	}
	return out
}

func registered(n *et.Node) mq.Message {
	return n.Keys.Event("registered", registryapi.RoleWorker, true, nil)
}

// TestPublishedOnceRegistered: nothing before registration; once
// registered, one endpoint egress; none more while it waits or once the
// chain recorded it; a start with another URL sends that one.
func TestPublishedOnceRegistered(t *testing.T) {
	const url = "http://127.0.0.1:9001"
	n, ep := node(t, url)
	n.Fold(et.Block(1), et.Block(2))
	if got := sentURLs(t, n); len(got) != 0 {
		t.Fatalf("sent %v before registration", got)
	}
	n.Fold(et.Block(3, registered(n)), et.Block(4), et.Block(5))
	if got := sentURLs(t, n); len(got) != 1 || got[0] != url {
		t.Fatalf("sent %v, want [%s] once", got, url)
	}
	n.Fold(et.Block(6, n.Republished(registryapi.TopicEndpoint)...), et.Block(7))
	if ep.Recorded() != url || len(sentURLs(t, n)) != 0 {
		t.Fatalf("recorded %q, outbox %v", ep.Recorded(), sentURLs(t, n))
	}
	// The state survives a checkpoint; a new start advertises another URL.
	section := ep.MarshalState()
	again, ep2 := node(t, "https://worker.example.org")
	if err := ep2.UnmarshalState(section); err != nil || ep2.Recorded() != url {
		t.Fatalf("restored %q (%v)", ep2.Recorded(), err)
	}
	again.Fold(et.Block(8, registered(again)))
	if got := sentURLs(t, again); len(got) != 1 || got[0] != "https://worker.example.org" {
		t.Fatalf("after the change sent %v", got)
	}
}

// TestRefusedNotRetried: an endpoint the chain refused is not sent again
// in the same run, and another node's endpoint changes nothing here.
func TestRefusedNotRetried(t *testing.T) {
	n, ep := node(t, "http://127.0.0.1:9001")
	n.Fold(et.Block(3, registered(n)))
	pending := n.Machine.Pending()
	if len(pending) == 0 {
		t.Fatal("nothing sent")
	}
	var refused []mq.Message
	for _, se := range pending {
		refused = append(refused, et.RefusedMsg(se))
	}
	other := et.NewKeys(t, 2)
	stranger := mq.SignEgress(et.ChainID, other.ID, mq.Egress{Version: mq.EgressVersion, Sender: other.Pub(), Seq: 1, Topic: registryapi.TopicEndpoint,
		Payload: codec.MustMarshal(registryapi.Endpoint{URL: "http://10.0.0.1:1"})})
	n.Fold(et.Block(4, append(refused, et.EgressMsg(stranger))...), et.Block(5), et.Block(6))
	if got := sentURLs(t, n); len(got) != 0 || ep.Recorded() != "" {
		t.Fatalf("after a refusal: sent %v, recorded %q", got, ep.Recorded())
	}
}

// TestNothingAdvertised: a node without a URL publishes nothing, and a
// bad URL is refused at configuration.
func TestNothingAdvertised(t *testing.T) {
	n, ep := node(t, "")
	n.Fold(et.Block(3, registered(n)), et.Block(4))
	if got := sentURLs(t, n); len(got) != 0 {
		t.Fatalf("sent %v", got)
	}
	if err := ep.Advertise("ftp://x"); !errors.Is(err, registryapi.ErrBadEndpoint) {
		t.Fatalf("Advertise(ftp): %v", err)
	}
}
