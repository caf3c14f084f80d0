package registryapi

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
)

// Endpoints: a TEE node publishes the URL of its public API (receipts,
// queries, events) as egress signed by its identity key, so clients find
// the workers of a contract's cluster from the chain alone. The URL is
// what the node's operator advertises; the chain checks its form only.

// TopicEndpoint is an egress topic: a registered node's public API URL
// (payload Endpoint). The newest accepted one is the node's endpoint.
const TopicEndpoint = "registry.endpoint"

// QueryEndpoint reads a node's endpoint: data the identity key →
// EndpointRecord.
const QueryEndpoint = "registry/endpoint"

// EventEndpoint is emitted when a node's endpoint is recorded.
const EventEndpoint = "node_endpoint"

// MaxEndpointURL bounds an endpoint URL, in bytes.
const MaxEndpointURL = 256

// Endpoint is the payload of TopicEndpoint.
type Endpoint struct {
	_   struct{} `cbor:",toarray"`
	URL string
}

// EndpointRecord is a node's endpoint as the chain records it: the URL
// and the height of the block that recorded it.
type EndpointRecord struct {
	_           struct{} `cbor:",toarray"`
	IdentityKey []byte   `json:"identity_key"`
	URL         string   `json:"url"`
	Height      int64    `json:"height"`
}

// EndpointKey is where a node's endpoint is stored (item 0x09).
var EndpointKey = state.NewKeyFormat(state.ModuleRegistry, 0x09) // identity key → EndpointRecord

// EndpointKeyOf is the state key of a node's endpoint.
func EndpointKeyOf(identity []byte) []byte { return EndpointKey.Key(identity) }

// ErrBadEndpoint: an endpoint payload that does not decode or whose URL
// is unusable.
var ErrBadEndpoint = errs.Register(Name, 14, "invalid endpoint")

// CheckEndpointURL accepts an absolute http:// or https:// URL (scheme in
// lower case: one spelling) of at most
// MaxEndpointURL printable ASCII bytes, with a host, an optional port and
// path, and nothing else (no user, query or fragment): what a client can
// put its API paths after. Nodes check their own before sending; the
// chain checks again.
func CheckEndpointURL(s string) error {
	if s == "" || len(s) > MaxEndpointURL {
		return ErrBadEndpoint.Wrapf("URL of %d bytes, want 1..%d", len(s), MaxEndpointURL)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return ErrBadEndpoint.Wrapf("URL byte %d is %#x: printable ASCII only", i, s[i])
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return ErrBadEndpoint.Wrapf("%v", err)
	case !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://"):
		return ErrBadEndpoint.Wrapf("%q: want an http:// or https:// URL", s)
	case u.Opaque != "" || u.Hostname() == "":
		return ErrBadEndpoint.Wrapf("%q has no host", s)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "":
		return ErrBadEndpoint.Wrapf("%q: no user, query or fragment", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return ErrBadEndpoint.Wrapf("port %q", p)
		}
	}
	return nil
}

// DecodeEndpoint decodes a TopicEndpoint payload strictly and checks its
// URL.
func DecodeEndpoint(b []byte) (Endpoint, error) {
	var e Endpoint
	if err := codec.UnmarshalCanonical(b, &e); err != nil {
		return e, ErrBadEndpoint.Wrapf("payload: %v", err)
	}
	return e, CheckEndpointURL(e.URL)
}
