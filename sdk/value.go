package sdk

import (
	"encoding/json"
	"errors"
	"unsafe"
)

// Value and other contracts (vm/ABI.md: value, balance, pay, send,
// query_contract).

// Value is what the command moved to the contract's account (zero in a
// query). It is the contract's only if the command succeeds: a command
// that fails, reverts included, has its value sent back by the chain.
func Value() Amount {
	var b [16]byte
	hostValue(unsafe.Pointer(&b[0]))
	return amountFrom(b[:])
}

// Balance is what the contract's account holds for it now: its balance
// before this call, plus this command's value, less what it paid so far.
func Balance() Amount {
	var b [16]byte
	hostBalance(unsafe.Pointer(&b[0]))
	return amountFrom(b[:])
}

// Pay pays amount from the contract's account to the account to (an
// address, 20 bytes), in commands only. The chain makes the payment once
// the workers' results land, and only if the command succeeds. Paying
// more than Balance ends the command at once with the status
// "overdrawn"; a query that pays fails.
func Pay(to Address, amount Amount) {
	tp, tl := ptr(to)
	b := amount.bytes()
	hostPay(tp, tl, unsafe.Pointer(&b[0]))
}

// Send queues a message for another contract of this contract's cluster,
// in commands only: method with args (JSON, as EncodeMessage), run as a
// command after this one in the same block, with this contract's account
// as the caller and gas out of the command's limit. It runs only if this
// command succeeds; its outcome does not change this command's (it shows
// in the receipt).
func Send(contract []byte, method string, args any) error {
	in, err := EncodeMessage(method, args)
	if err != nil {
		return err
	}
	cp, cl := ptr(contract)
	mp, ml := ptr(in)
	hostSend(cp, cl, mp, ml)
	return nil
}

// Errors of QueryContract besides the called query's own (QueryError).
var (
	ErrQueryContractInCommand = errors.New("query_contract is query-only")
	ErrNoSuchContract         = errors.New("no such contract reachable")
	ErrCallTooDeep            = errors.New("contract call too deep, or a contract already in the chain of calls")
)

// QueryError is a called query that failed: its revert message or error.
type QueryError struct{ Message string }

func (e *QueryError) Error() string { return "contract query failed: " + e.Message }

// QueryContract runs method with args as a query of another contract, in
// queries only, with this contract's account as the caller and the gas
// left as its limit, and decodes its JSON answer into out (nil: ignore
// it). Calls nest up to the host's depth bound; a contract may not be
// called again while it is in the chain of calls.
func QueryContract(contract []byte, method string, args any, out any) error {
	in, err := EncodeMessage(method, args)
	if err != nil {
		return err
	}
	cp, cl := ptr(contract)
	mp, ml := ptr(in)
	n := hostQueryContract(cp, cl, mp, ml)
	b, _ := register(int32(hostRegisterLen()))
	switch n {
	case -1:
		return ErrQueryContractInCommand
	case -2:
		return ErrNoSuchContract
	case -3:
		return ErrCallTooDeep
	case -4:
		return &QueryError{Message: string(b)}
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}
