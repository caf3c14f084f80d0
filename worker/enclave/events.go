package enclave

import (
	"crypto/ed25519"
	"time"

	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/workerwire"
)

// Events answers the events addressed to the account that signed req
// (workerwire.EventsRequest), sealed to the request's reply key and signed
// by this enclave's identity key at its verified height. Refusals are the
// queries' (a signed request for events is a query of a kind): malformed,
// expired, replayed (nonces per account until their expiry), badly signed
// or too fast (a token bucket per account). A refusal changes nothing.
func (r *Runtime) Events(req workerwire.EventsRequest) (workerwire.SignedEventsReply, error) {
	r.mu.RLock()
	closed, chainID, height := r.closed, r.light.ChainID, r.light.Height
	r.mu.RUnlock()
	if closed {
		return workerwire.SignedEventsReply{}, ErrClosed
	}
	if err := checkEventsRequest(chainID, height, req); err != nil {
		return workerwire.SignedEventsReply{}, err
	}
	caller := string(req.Account)
	if !r.events.allow(caller, time.Now()) {
		return workerwire.SignedEventsReply{}, ErrQueryRate.Wrapf("at most %d per second", QueryRate)
	}
	if !r.events.remember(caller, req.Nonce, req.Expiry, height) {
		return workerwire.SignedEventsReply{}, ErrQueryReplayed.Wrapf("nonce %x", req.Nonce)
	}
	account := address.FromPublicKey(ed25519.PublicKey(req.Account))
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return workerwire.SignedEventsReply{}, ErrClosed
	}
	res := r.contracts.EventsFor(account, req.Contract, req.After, int(req.Limit))
	height = r.light.Height
	r.mu.RUnlock()
	// Sealing (a KEM) happens outside the lock.
	out, err := workerwire.SealEvents(chainID, height, req, res, r.node.Identity)
	if err != nil {
		return workerwire.SignedEventsReply{}, ErrQueryMalformed.Wrapf("reply key: %v", err)
	}
	return out, nil
}

// checkEventsRequest refuses a request that is malformed, expired or not
// signed by the account it names, at the worker's height.
func checkEventsRequest(chainID string, height int64, q workerwire.EventsRequest) error {
	switch {
	case len(q.Account) != ed25519.PublicKeySize:
		return ErrQueryMalformed.Wrapf("account key of %d bytes, want %d", len(q.Account), ed25519.PublicKeySize)
	case len(q.Nonce) != workerwire.NonceSize:
		return ErrQueryMalformed.Wrapf("nonce of %d bytes, want %d", len(q.Nonce), workerwire.NonceSize)
	case q.Expiry < height:
		return ErrQueryExpired.Wrapf("expiry height %d, this worker is at %d", q.Expiry, height)
	case q.Expiry > height+workerwire.MaxQueryWindow:
		return ErrQueryMalformed.Wrapf("expiry height %d is over %d blocks ahead of %d", q.Expiry, workerwire.MaxQueryWindow, height)
	case !q.VerifySignature(chainID):
		return ErrQuerySignature.Wrapf("events request of account %x", q.Account)
	}
	if _, err := envelope.ParsePublicKey(envelope.Default, q.ReplyKey); err != nil {
		return ErrQueryMalformed.Wrapf("reply key: %v", err)
	}
	return nil
}
