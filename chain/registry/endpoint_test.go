package registry_test

import (
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// publish has node n send an endpoint payload through alice's relay and
// returns the mq outcome's error (nil: accepted).
func publish(t *testing.T, h *apptest.Chain, n apptest.TEENode, payload []byte) error {
	t.Helper()
	msg := apptest.Egress(n, h.EgressSeq(n)+1, registryapi.TopicEndpoint, payload)
	r := h.Block(h.Submit(apptest.Alice, msg)).TxResults[0]
	if r.Code != 0 {
		t.Fatalf("submit: %s", r.Log)
	}
	if !apptest.HasEvent(r.Events, mq.EventAccepted) {
		return apptest.Rejection(r.Events)
	}
	if !apptest.HasEvent(r.Events, registryapi.EventEndpoint) {
		t.Fatalf("accepted without the endpoint event: %v", r.Events)
	}
	return nil
}

func endpointOf(h *apptest.Chain, n apptest.TEENode) (registryapi.EndpointRecord, error) {
	var e registryapi.EndpointRecord
	err := h.Query(registryapi.QueryEndpoint, n.Pub(), &e)
	return e, err
}

// TestEndpointRecorded: an active node's endpoint is recorded with its
// height, a newer one replaces it, and the query answers it; before any,
// the query says not found.
func TestEndpointRecorded(t *testing.T) {
	h := anchored(t)
	n := h.Register(apptest.Alice, registryapi.RoleWorker)
	if _, err := endpointOf(h, n); !errors.Is(err, module.ErrNotFound) {
		t.Fatalf("endpoint before any: %v", err)
	}
	for _, url := range []string{"http://127.0.0.1:8080", "https://worker.example.org/phala"} {
		if err := publish(t, h, n, codec.MustMarshal(registryapi.Endpoint{URL: url})); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		e, err := endpointOf(h, n)
		if err != nil || e.URL != url || e.Height != h.Height || string(e.IdentityKey) != string(n.Pub()) {
			t.Fatalf("recorded %+v (%v), want %s at %d", e, err, url, h.Height)
		}
	}
}

// TestBadEndpointsRefused: a payload that does not decode or names an
// unusable URL is refused with ErrBadEndpoint and changes nothing but the
// sender's sequence; an inactive node's endpoint is refused by the mq
// module before the registry sees it.
func TestBadEndpointsRefused(t *testing.T) {
	h := anchored(t)
	n := h.Register(apptest.Alice, registryapi.RoleWorker)
	const good = "https://worker.example.org"
	if err := publish(t, h, n, codec.MustMarshal(registryapi.Endpoint{URL: good})); err != nil {
		t.Fatal(err)
	}
	recorded, _ := endpointOf(h, n)
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"not cbor", []byte{0xff}},
		{"not canonical", []byte{0x81, 0x78, 0x05, 'h', 't', 't', 'p', ':'}},
		{"extra field", codec.MustMarshal([]any{good, 1})},
		{"empty url", codec.MustMarshal(registryapi.Endpoint{})},
		{"ftp", codec.MustMarshal(registryapi.Endpoint{URL: "ftp://worker.example.org"})},
		{"no host", codec.MustMarshal(registryapi.Endpoint{URL: "http://:80"})},
		{"query", codec.MustMarshal(registryapi.Endpoint{URL: good + "/?a=b"})},
		{"too long", codec.MustMarshal(registryapi.Endpoint{URL: good + "/" + string(make([]byte, registryapi.MaxEndpointURL))})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := publish(t, h, n, tc.payload); !errors.Is(err, registryapi.ErrBadEndpoint) {
				t.Fatalf("got %v, want ErrBadEndpoint", err)
			}
			if e, err := endpointOf(h, n); err != nil || e.URL != recorded.URL || e.Height != recorded.Height {
				t.Fatalf("endpoint now %+v (%v), was %+v", e, err, recorded)
			}
		})
	}
	// Deactivated (a policy its measurement fails), it cannot publish.
	h.MustSucceed(h.Tx(apptest.Alice, registryapi.MethodSetPolicy, registryapi.SetPolicy{Policy: onlyOtherMeasurement}))
	msg := apptest.Egress(n, h.EgressSeq(n)+1, registryapi.TopicEndpoint, codec.MustMarshal(registryapi.Endpoint{URL: good + "/new"}))
	h.MustRefuse(h.Submit(apptest.Alice, msg), mq.ErrInactiveSender)
	if e, _ := endpointOf(h, n); e.URL != good {
		t.Fatalf("an inactive node's endpoint was recorded: %+v", e)
	}
}
