package vm

import (
	"encoding/binary"
	"errors"

	"github.com/phala-go/phala/token"
	"github.com/tetratelabs/wazero/api"
)

// Value and other contracts: the host functions value, balance, pay, send
// and query_contract. The VM keeps no ledger: the host says what the
// contract holds (Call.Balance) and what the command brought (Call.Value),
// the VM refuses a payment beyond that, and a successful command's
// payouts and messages come back in its Result for the host to carry out.

// AddressBytes is the length of an account address: a payee (pay) must be
// one, since the chain pays only accounts.
const AddressBytes = 20

// AmountBytes is an amount's size on the ABI: an unsigned 128-bit count of
// base units (10^-12 PHA, package token), big-endian.
const AmountBytes = 16

// maxContractIDBytes bounds the contract named by send and query_contract
// (a contract id is 32 bytes; the host judges what it names).
const maxContractIDBytes = 64

// query_contract results below zero (the register holds a message).
const (
	QueryErrCommand = -1 // called from a command or _initialize: never allowed, on every worker alike
	QueryErrUnknown = -2 // no such contract reachable (unknown, not running, another cluster)
	QueryErrDepth   = -3 // beyond MaxCallDepth, or the contract is already in the chain of calls
	QueryErrFailed  = -4 // the called query failed: its revert message or error text
)

// EncodeAmount is a's ABI form: AmountBytes big-endian bytes.
func EncodeAmount(a token.Amount) []byte {
	hi, lo := a.Uint128()
	b := binary.BigEndian.AppendUint64(make([]byte, 0, AmountBytes), hi)
	return binary.BigEndian.AppendUint64(b, lo)
}

// DecodeAmount reads EncodeAmount's form; false if b is not AmountBytes long.
func DecodeAmount(b []byte) (token.Amount, bool) {
	if len(b) != AmountBytes {
		return token.Amount{}, false
	}
	return token.FromUint128(binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])), true
}

// commandOnly fails the call unless it is a command's entry point.
func (st *callState) commandOnly(fn string) {
	if st.init || st.call.Mode != Command {
		st.fail(ErrCommandOnly.Wrapf("%s", fn))
	}
}

// available is what the contract may still pay in this call. Call checked
// that Balance + Value does not overflow, and payouts never exceed it.
func (st *callState) available() token.Amount {
	total, _ := st.call.Balance.Add(st.call.Value)
	left, _ := total.Sub(st.paid)
	return left
}

func valueFn(st *callState, mod api.Module, s []uint64, _ uint64) {
	st.write(mod, uint32(s[0]), EncodeAmount(st.call.Value))
}

func balanceFn(st *callState, mod api.Module, s []uint64, _ uint64) {
	st.write(mod, uint32(s[0]), EncodeAmount(st.available()))
}

// pay records a payout after checking it against what the contract holds.
// A zero amount records nothing.
func pay(st *callState, mod api.Module, s []uint64, gas uint64) {
	st.commandOnly("pay")
	st.charge(gas)
	if st.pays++; st.pays > st.inst.m.e.cfg.MaxPayouts {
		st.fail(ErrHostLimit.Wrapf("more than %d payouts", st.inst.m.e.cfg.MaxPayouts))
	}
	if n := uint32(s[1]); n != AddressBytes {
		st.fail(ErrHostLimit.Wrapf("payee of %d bytes, an address has %d", n, AddressBytes))
	}
	to := st.read(mod, uint32(s[0]), AddressBytes)
	amount, _ := DecodeAmount(st.read(mod, uint32(s[2]), AmountBytes))
	if left := st.available(); amount.Cmp(left) > 0 {
		st.fail(ErrOverdrawn.Wrapf("paying %s with %s left", amount.PHAString(), left.PHAString()))
	}
	if amount.IsZero() {
		return
	}
	st.paid, _ = st.paid.Add(amount)
	st.payouts = append(st.payouts, Payout{To: to, Amount: amount})
}

// send queues a message for another contract.
func send(st *callState, mod api.Module, s []uint64, gas uint64) {
	st.commandOnly("send")
	st.charge(gas)
	c := st.inst.m.e.cfg
	if len(st.sends) >= c.MaxSends {
		st.fail(ErrHostLimit.Wrapf("more than %d messages", c.MaxSends))
	}
	contract := st.readContract(mod, uint32(s[0]), uint32(s[1]))
	if n := uint32(s[3]); int(n) > c.MaxInputBytes {
		st.fail(ErrHostLimit.Wrapf("message of %d bytes, limit %d", n, c.MaxInputBytes))
	}
	st.sends = append(st.sends, Message{Contract: contract, Input: st.read(mod, uint32(s[2]), uint32(s[3]))})
}

func (st *callState) readContract(mod api.Module, ptr, n uint32) []byte {
	if n == 0 || n > maxContractIDBytes {
		st.fail(ErrHostLimit.Wrapf("contract id of %d bytes", n))
	}
	return st.read(mod, ptr, n)
}

// queryContract runs another contract's query through Call.Peers with
// the gas this call has left, and charges what it used.
func queryContract(st *callState, mod api.Module, s []uint64, gas uint64) {
	c := st.inst.m.e.cfg
	st.charge(gas)
	contract := st.readContract(mod, uint32(s[0]), uint32(s[1]))
	if n := uint32(s[3]); int(n) > c.MaxInputBytes {
		st.fail(ErrHostLimit.Wrapf("message of %d bytes, limit %d", n, c.MaxInputBytes))
	}
	input := st.read(mod, uint32(s[2]), uint32(s[3]))
	answer := func(code int32, msg []byte) {
		st.setRegister(msg)
		s[0] = uint64(uint32(code))
	}
	switch {
	case st.init || st.call.Mode != Query:
		answer(QueryErrCommand, []byte("query_contract is query-only"))
		return
	case st.call.Peers == nil:
		answer(QueryErrUnknown, []byte("no other contracts here"))
		return
	case st.call.Depth >= c.MaxCallDepth:
		answer(QueryErrDepth, []byte(ErrCallDepth.Wrapf("depth %d", c.MaxCallDepth).Error()))
		return
	}
	res, err := st.call.Peers.QueryPeer(st.ctx, contract, input, st.limit-st.used(), st.call.Depth+1)
	st.charge(res.GasUsed)
	switch {
	case err == nil:
		st.charge(uint64(len(res.Output)) * c.Costs.PerByte)
		s[0] = st.setRegister(res.Output)
	case errors.Is(err, ErrUnknownContract):
		answer(QueryErrUnknown, []byte(err.Error()))
	case errors.Is(err, ErrCallDepth):
		answer(QueryErrDepth, []byte(err.Error()))
	case errors.Is(err, ErrReverted):
		answer(QueryErrFailed, res.Output)
	default:
		answer(QueryErrFailed, []byte(err.Error()))
	}
}
