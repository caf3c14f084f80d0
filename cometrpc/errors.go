package cometrpc

import (
	"fmt"
	"strings"

	"github.com/phala-go/phala/errs"
)

// module is the errs module of this package's errors.
const module = "cometrpc"

// Error kinds of a CometBFT RPC call. Codes are stable: only add.
var (
	// ErrUnreachable is a node that could not be asked or gave no
	// JSON-RPC answer (connection refused, timeout, an HTTP error page).
	ErrUnreachable = errs.Register(module, 1, "node did not answer")
	// ErrRPC is a node that answered with a JSON-RPC error; the *RPCError
	// carrying it says which.
	ErrRPC = errs.Register(module, 2, "node returned an error")
	// ErrMalformed is an answer that does not decode into what was asked.
	ErrMalformed = errs.Register(module, 3, "malformed answer from the node")
	// ErrTooLarge is an answer over the client's size limit.
	ErrTooLarge = errs.Register(module, 4, "answer from the node too large")
	// ErrConfig is a client set up with an unusable address.
	ErrConfig = errs.Register(module, 5, "invalid node address")
)

// RPCError is the error object of a JSON-RPC answer. CometBFT puts the
// reason in Data (Message is only the JSON-RPC class, "Internal error").
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

func (e *RPCError) Error() string {
	if e.Data == "" {
		return fmt.Sprintf("RPC error %d: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("RPC error %d: %s: %s", e.Code, e.Message, e.Data)
}

// Unwrap gives the kind, so errors.Is(err, ErrRPC) holds.
func (e *RPCError) Unwrap() error { return ErrRPC }

// NotFound reports whether the node said what was asked does not exist
// (a transaction not indexed, a height not stored).
func (e *RPCError) NotFound() bool { return strings.Contains(e.Data, "not found") }

// BatchTooLarge reports whether the node refused a batch for having more
// calls than its rpc.max_request_batch_size.
func (e *RPCError) BatchTooLarge() bool { return strings.Contains(e.Data, "exceeds maximum") }
