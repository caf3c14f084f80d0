package poolsapi

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/tokenomics"
)

// The decoders below read untrusted bytes (transaction bodies, query
// data) strictly, canonical CBOR only, and check their form; the handlers
// then check them against params and state.

func decode(b []byte, v any, what string) error {
	if err := codec.UnmarshalCanonical(b, v); err != nil {
		return ErrInvalid.Wrapf("%s: %v", what, err)
	}
	return nil
}

func checkCommission(c tokenomics.Permill) error {
	if c > tokenomics.Million {
		return ErrCommission.Wrapf("%d millionths", uint32(c))
	}
	return nil
}

func checkPool(id ID) error {
	if id == 0 {
		return ErrInvalid.Wrapf("pool 0: pools are numbered from 1")
	}
	return nil
}

// DecodeCreate decodes a MethodCreate body: commission at most 100%.
func DecodeCreate(b []byte) (Create, error) {
	var c Create
	if err := decode(b, &c, "create body"); err != nil {
		return c, err
	}
	return c, checkCommission(c.Commission)
}

// DecodeWorkerBody decodes a MethodAddWorker or MethodRemoveWorker body:
// a pool and an ed25519 identity key.
func DecodeWorkerBody(b []byte) (WorkerBody, error) {
	var w WorkerBody
	if err := decode(b, &w, "worker body"); err != nil {
		return w, err
	}
	if len(w.Worker) != ed25519.PublicKeySize {
		return w, ErrInvalid.Wrapf("worker key of %d bytes, want %d", len(w.Worker), ed25519.PublicKeySize)
	}
	return w, checkPool(w.Pool)
}

// DecodeSetCommission decodes a MethodSetCommission body.
func DecodeSetCommission(b []byte) (SetCommission, error) {
	var s SetCommission
	if err := decode(b, &s, "set_commission body"); err != nil {
		return s, err
	}
	if err := checkPool(s.Pool); err != nil {
		return s, err
	}
	return s, checkCommission(s.Commission)
}

// DecodeSetCapacity decodes a MethodSetCapacity body.
func DecodeSetCapacity(b []byte) (SetCapacity, error) {
	var s SetCapacity
	if err := decode(b, &s, "set_capacity body"); err != nil {
		return s, err
	}
	return s, checkPool(s.Pool)
}

// DecodeDelegate decodes a MethodDelegate body: a positive amount.
func DecodeDelegate(b []byte) (Delegate, error) {
	var d Delegate
	if err := decode(b, &d, "delegate body"); err != nil {
		return d, err
	}
	if d.Amount.IsZero() {
		return d, ErrInvalid.Wrapf("delegating nothing")
	}
	return d, checkPool(d.Pool)
}

// DecodeUndelegate decodes a MethodUndelegate body: some shares.
func DecodeUndelegate(b []byte) (Undelegate, error) {
	var u Undelegate
	if err := decode(b, &u, "undelegate body"); err != nil {
		return u, err
	}
	if u.Shares.IsZero() {
		return u, ErrInvalid.Wrapf("undelegating no shares")
	}
	return u, checkPool(u.Pool)
}

// DecodeWithdraw decodes a MethodWithdraw body (amount zero: all).
func DecodeWithdraw(b []byte) (Withdraw, error) {
	var w Withdraw
	if err := decode(b, &w, "withdraw body"); err != nil {
		return w, err
	}
	return w, checkPool(w.Pool)
}

// DecodeID decodes the data of QueryPool and QueryQueue.
func DecodeID(b []byte) (ID, error) {
	var id ID
	if err := decode(b, &id, "pool id"); err != nil {
		return id, err
	}
	return id, checkPool(id)
}

// DecodeListQuery decodes the data of QueryPools; none is the first page.
func DecodeListQuery(b []byte) (ListQuery, error) {
	var q ListQuery
	if len(b) == 0 {
		return q, nil
	}
	return q, decode(b, &q, "list query")
}

// DecodePositionQuery decodes the data of QueryPosition.
func DecodePositionQuery(b []byte) (PositionQuery, error) {
	var q PositionQuery
	if err := decode(b, &q, "position query"); err != nil {
		return q, err
	}
	return q, checkPool(q.Pool)
}
