// Package sdk is the Go SDK for phala contracts. A contract is a main
// package built with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
// (or `phala contract build`). It registers its methods in init:
//
//	func init() {
//		sdk.Command("transfer", transfer) // func(TransferArgs) (Receipt, error)
//		sdk.Query("balance", balance)
//	}
//	func main() {}
//
// A message is the method name, a zero byte, and the JSON arguments
// (EncodeMessage); args decode strictly into the method's argument type
// (no unknown fields), the result is returned as JSON. The envelope is not
// JSON so that dispatch costs no reflection: a trivial call stays cheap. A
// returned error (or a panic) reverts the call: its storage writes and
// events are discarded and the caller sees the message.
//
// Keep state in storage (NewMap), never in package variables: the host
// resets the instance to its state right after init at the first command
// of every block and after any failed call, so that every worker charges
// the same gas. A variable set in one block is gone in the next. The host
// ABI under this package is documented in vm/ABI.md.
//
// Value: a command may carry PHA (Value), which becomes the contract's if
// the command succeeds; Balance is what the contract holds and Pay pays
// out of it. Contracts of one cluster reach each other: Send queues a
// message run after the command, QueryContract calls another contract's
// query from a query (value.go).
package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// EncodeMessage builds a call's input: method, 0x00, JSON of args (omitted
// when args is nil). Hosts and clients use it natively.
func EncodeMessage(method string, args any) ([]byte, error) {
	if strings.IndexByte(method, 0) >= 0 {
		return nil, errors.New("sdk: method name contains a zero byte")
	}
	out := append([]byte(method), 0)
	if args == nil {
		return out, nil
	}
	a, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	return append(out, a...), nil
}

// DecodeMessage splits a call's input into method and JSON arguments.
func DecodeMessage(in []byte) (method string, args []byte, err error) {
	i := bytes.IndexByte(in, 0)
	if i < 0 {
		return "", nil, errors.New("no zero byte after the method name")
	}
	return string(in[:i]), in[i+1:], nil
}

type handler func(args []byte) ([]byte, error)

var (
	commands = map[string]handler{}
	queries  = map[string]handler{}
)

// Command registers a state-changing method, run in order on every worker.
func Command[A, R any](method string, fn func(A) (R, error)) { commands[method] = wrap(fn) }

// Query registers a read-only method; its storage writes are discarded.
func Query[A, R any](method string, fn func(A) (R, error)) { queries[method] = wrap(fn) }

// Empty is the argument or result of a method that has none.
type Empty struct{}

func wrap[A, R any](fn func(A) (R, error)) handler {
	return func(raw []byte) ([]byte, error) {
		var a A
		if err := decodeArgs(raw, &a); err != nil {
			return nil, fmt.Errorf("bad args: %w", err)
		}
		r, err := fn(a)
		if err != nil {
			return nil, err
		}
		if _, none := any(r).(Empty); none {
			return nil, nil // no reflection on the cheapest path
		}
		return json.Marshal(r)
	}
}

// decodeArgs decodes strictly; Empty takes no args ("", "{}" or "null").
func decodeArgs(raw []byte, a any) error {
	if _, none := a.(*Empty); none {
		switch string(bytes.TrimSpace(raw)) {
		case "", "{}", "null":
			return nil
		}
		return errors.New("method takes no arguments")
	}
	if len(raw) == 0 {
		return nil
	}
	return decodeStrict(raw, a)
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// dispatch runs one message through the handler table; an error or panic
// becomes a revert, so the reactor stays healthy for the next call.
func dispatch(table map[string]handler) {
	defer func() {
		if r := recover(); r != nil {
			Revert(fmt.Sprintf("panic: %v", r))
		}
	}()
	method, args, err := DecodeMessage(Input())
	if err != nil {
		Revert("bad message: " + err.Error())
		return
	}
	h := table[method]
	if h == nil {
		Revert("unknown method " + strconv.Quote(method))
		return
	}
	out, err := h(args)
	if err != nil {
		Revert(err.Error())
		return
	}
	Return(out)
}

func ptr(b []byte) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.SliceData(b)), int32(len(b))
}

func sptr(s string) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.StringData(s)), int32(len(s))
}

// register fetches n bytes the host staged (n < 0 means absent).
func register(n int32) ([]byte, bool) {
	if n < 0 {
		return nil, false
	}
	b := make([]byte, n)
	if n > 0 {
		hostRegisterRead(unsafe.Pointer(&b[0]))
	}
	return b, true
}

// Input is the raw message of this call.
func Input() []byte {
	b := make([]byte, hostInputLen())
	if len(b) > 0 {
		hostInputRead(unsafe.Pointer(&b[0]))
	}
	return b
}

// Return sets the call's output.
func Return(b []byte) { hostReturn(ptr(b)) }

// Revert ends the call as failed with msg once the entry point returns:
// storage writes and events of the call are discarded.
func Revert(msg string) { hostRevert(sptr(msg)) }

// Caller is the authenticated address of the account calling.
func Caller() []byte { b, _ := register(hostCaller()); return b }

// ContractID is this contract's id.
func ContractID() []byte { b, _ := register(hostContractID()); return b }

// BlockInfo is the block the call runs in (queries: the snapshot's block).
type BlockInfo struct {
	Height int64
	Time   int64 // unix nanoseconds
}

// Block returns the current block.
func Block() BlockInfo { return BlockInfo{Height: hostBlockHeight(), Time: hostBlockTime()} }

// Emit publishes an event to everyone.
func Emit(topic string, data []byte) { emit(topic, data, nil) }

// EmitTo publishes an event sealed to the given accounts.
func EmitTo(topic string, data []byte, audience ...[]byte) {
	var enc []byte
	for _, a := range audience {
		enc = append(enc, byte(len(a)), byte(len(a)>>8), byte(len(a)>>16), byte(len(a)>>24))
		enc = append(enc, a...)
	}
	emit(topic, data, enc)
}

func emit(topic string, data, audience []byte) {
	tp, tl := sptr(topic)
	dp, dl := ptr(data)
	ap, al := ptr(audience)
	hostEmit(tp, tl, dp, dl, ap, al)
}

// Random fills n bytes from the call's deterministic random stream (the
// same on every worker, unpredictable without the contract key).
func Random(n int) []byte {
	b := make([]byte, n)
	if n > 0 {
		hostRandom(unsafe.Pointer(&b[0]), int32(n))
	}
	return b
}

// PublicKey is the ed25519 public key of the contract's key for purpose.
func PublicKey(purpose string) []byte {
	b, _ := register(hostPublicKey(sptr(purpose)))
	return b
}

// Sign signs msg with the contract's key for purpose (ed25519).
func Sign(purpose string, msg []byte) []byte {
	pp, pl := sptr(purpose)
	mp, ml := ptr(msg)
	b, _ := register(hostSign(pp, pl, mp, ml))
	return b
}

// ErrQueryOnly is returned by HTTPGet in a command.
var ErrQueryOnly = errors.New("http_get is query-only")

// HTTPGet fetches url through the host's allow-list (queries only).
func HTTPGet(url string) (status int, body []byte, err error) {
	n := hostHTTPGet(sptr(url))
	if n < 0 {
		msg, _ := register(int32(hostRegisterLen()))
		if n == -1 {
			return 0, nil, ErrQueryOnly
		}
		return 0, nil, fmt.Errorf("http_get: %s", msg)
	}
	body, _ = register(int32(hostRegisterLen()))
	return int(n), body, nil
}
