// Package cometrpc is a small client of CometBFT's JSON-RPC over HTTP: the
// calls phala's client and relay make (status, abci_query,
// broadcast_tx_sync, tx, block, blockchain, commit, validators), alone or
// in JSON-RPC batches. Answers decode into this package's own structs, and
// headers, commits and validator sets convert to CometBFT's protobuf
// messages, so its users link neither CometBFT's RPC stack nor its types
// package (and with them a database, gRPC and a test library).
//
// A node is untrusted: answers are size-bounded and decoded strictly, and
// a bad one is an ErrMalformed error, never a panic. What an answer claims
// is checked later, by whoever relies on it.
package cometrpc

import (
	"net/http"
	"net/url"
	"time"
)

// DefaultMaxAnswer bounds an answer's size. The largest answer asked for
// is a block, which CometBFT caps at 100 MiB of binary transactions; a
// chain that uses that much needs a larger bound (WithMaxAnswer).
const DefaultMaxAnswer = 64 << 20

// DefaultTimeout bounds one HTTP exchange when the caller's context does
// not end sooner.
const DefaultTimeout = 30 * time.Second

// Client talks to one node's RPC endpoint. It is safe for concurrent use.
type Client struct {
	endpoint  string
	hc        *http.Client
	maxAnswer int64
}

// Option tunes a Client.
type Option func(*Client)

// WithTimeout bounds one HTTP exchange (DefaultTimeout if d <= 0).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.hc.Timeout = d
		}
	}
}

// WithIdleConns keeps up to n connections to the node open between calls:
// a caller with n calls in flight would otherwise reconnect for most.
func WithIdleConns(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.hc.Transport.(*http.Transport).MaxIdleConnsPerHost = n
		}
	}
}

// WithMaxAnswer bounds an answer's size in bytes (DefaultMaxAnswer if n <= 0).
func WithMaxAnswer(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxAnswer = n
		}
	}
}

// New makes a client of the node at addr: http://host:port, https://… or
// CometBFT's tcp://host:port. No connection is made until the first call.
func New(addr string, opts ...Option) (*Client, error) {
	endpoint, err := endpointOf(addr)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c := &Client{
		endpoint:  endpoint,
		hc:        &http.Client{Transport: tr, Timeout: DefaultTimeout},
		maxAnswer: DefaultMaxAnswer,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// endpointOf turns a node address into the URL calls are posted to.
func endpointOf(addr string) (string, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return "", ErrConfig.Wrapf("%q: %v", addr, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "tcp":
		u.Scheme = "http"
	default:
		return "", ErrConfig.Wrapf("%q: scheme %q, want http, https or tcp", addr, u.Scheme)
	}
	if u.Host == "" {
		return "", ErrConfig.Wrapf("%q: no host", addr)
	}
	return u.String(), nil
}

// CloseIdleConnections drops kept-alive connections, so the next call
// dials the node again: after a failure the node may have restarted.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }
