package api

import (
	"net/http"
	"time"

	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/relaywire"
	"github.com/phala-go/phala/workerwire"
)

// Errors of request admission. Codes 20 and up leave 10-19 to the API's
// own errors (the relay API token takes 10 and 11).
var (
	// ErrBusy: the endpoint already serves as many requests as it admits;
	// retry later. Nothing of the request was read.
	ErrBusy = errs.Register(Module, 20, "endpoint busy")
	// ErrHost: the Host header names something other than this loopback
	// server, as a DNS-rebinding page in a browser would.
	ErrHost = errs.Register(Module, 21, "host not accepted")
)

// The bound of a relay API batch body, in canonical CBOR. The relay sends
// at most MaxBatchBlocks headers per batch (its --batch default,
// relay.DefaultBatchSize; a test keeps the two in step), so a batch is at
// most:
//
//	MaxBatchBlocks × blockOverhead      headers and digests without messages
//	+ commitBound                       one commit signed by every validator
//	+ validatorSetBound                 the next validator set
//	+ messageBudget                     the messages the digests carry
//
// Headers, commits and validator sets have a fixed worst case. Messages do
// not: a block publishes messages out of its transactions, so a block's
// messages are about as large as the block (node: 4 MiB). The budget admits
// four full blocks' worth per batch; a relay that meets a batch above the
// bound must send fewer blocks.
const (
	// MaxBatchBlocks is the headers per batch the bound is sized for.
	MaxBatchBlocks = 500
	// maxHeaderBytes bounds a CometBFT header in protobuf: eight 32-byte
	// hashes, a block ID (two hashes), a 20-byte proposer address, a chain
	// ID of at most 50 bytes, a version, height and time come to under
	// 600 bytes with their tags.
	maxHeaderBytes = 1 << 10
	// digestOverhead bounds an mq.Block without its messages (height,
	// 32-byte writes hash, array heads) and a relaywire.Block's framing.
	digestOverhead = 128
	blockOverhead  = maxHeaderBytes + digestOverhead
	// maxBatchValidators is the light client's limit on a validator set.
	maxBatchValidators = 10_000
	// A commit signature (flag, 20-byte address, time, 64-byte signature)
	// and a validator (address, 32-byte key, power, priority) are each
	// under 128 bytes in protobuf; a commit's own fields fit in another 128.
	perValidatorBytes = 128
	commitBound       = 128 + maxBatchValidators*perValidatorBytes
	validatorSetBound = 128 + maxBatchValidators*perValidatorBytes
	// messageBudget: four 4 MiB blocks of messages.
	messageBudget = 4 * (4 << 20)
	// MaxBatchBody is the largest batch the relay API reads: 500 × 1152 +
	// 2 × 1,280,128 + 16 MiB = 19,913,472 bytes, about 19 MiB.
	MaxBatchBody = MaxBatchBlocks*blockOverhead + commitBound + validatorSetBound + messageBudget
	// MaxEvidenceBody bounds an evidence request: a version and a 20-byte
	// address are 23 bytes of CBOR; the rest is room for a later field.
	MaxEvidenceBody = 256
)

// Route is how one path is admitted: the most body bytes it reads (0: a
// GET, no body) and the most requests it serves at once. Over either the
// request is refused at once; nothing queues.
type Route struct {
	MaxBody int64
	Slots   int
}

// Timeouts are an http.Server's: the header, the whole request, the
// response (which includes the handler's time) and an idle keep-alive.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// ErrorFormat is how a server writes a refusal: each API answers in its own
// encoding, so clients decode refusals as they decode other errors.
type ErrorFormat int

// The refusal encodings.
const (
	ErrorsCBOR ErrorFormat = iota // relaywire.Error
	ErrorsJSON                    // the public API's {module, code, message}
	ErrorsText                    // "module/code: message" (metrics)
)

// Limits is what one server admits. Routes are keyed by exact path;
// Default covers every other path (all of which answer 404 anyway).
type Limits struct {
	Timeouts       Timeouts
	MaxHeaderBytes int
	Routes         map[string]Route
	Default        Route
	Errors         ErrorFormat
}

// RelayLimits sizes the relay API. Batches go one at a time: the runtime
// applies one batch at a time anyway, so a second would only wait holding
// its body in memory. Write covers applying a batch and matches the relay
// client's five-minute timeout; Read lets a full batch arrive over a
// loaded loopback.
func RelayLimits() Limits {
	return Limits{
		Timeouts:       Timeouts{ReadHeader: 5 * time.Second, Read: time.Minute, Write: 5 * time.Minute, Idle: 2 * time.Minute},
		MaxHeaderBytes: 16 << 10,
		Routes: map[string]Route{
			relaywire.PathBlocks:   {MaxBody: MaxBatchBody, Slots: 1},
			relaywire.PathEvidence: {MaxBody: MaxEvidenceBody, Slots: 1}, // a quote is costly
			relaywire.PathStatus:   {Slots: 4},
			relaywire.PathEgress:   {Slots: 2},
		},
		Default: Route{Slots: 4},
		Errors:  ErrorsCBOR,
	}
}

// PublicLimits sizes the public API: read-only JSON, answered from memory.
func PublicLimits() Limits {
	return Limits{
		Timeouts:       Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: time.Minute},
		MaxHeaderBytes: 16 << 10,
		Routes: map[string]Route{
			PublicPathStatus:      {Slots: 8},
			PublicPathAttestation: {Slots: 8},
			// Queries: a sealed body of at most MaxQueryBody; 64 at once
			// (each contract at most QueryConcurrency of them, one-shot
			// and session queries together). A session costs a KEM to
			// open and decapsulation to grant, so fewer open at once.
			workerwire.PathQuery:        {MaxBody: workerwire.MaxQueryBody, Slots: 64},
			workerwire.PathSession:      {MaxBody: workerwire.MaxQueryBody, Slots: 16},
			workerwire.PathSessionQuery: {MaxBody: workerwire.MaxSessionQueryBody, Slots: 64},
			// Events requests: a small signed body; each answer costs a
			// signature check and a KEM.
			workerwire.PathEvents: {MaxBody: workerwire.MaxEventsBody, Slots: 16},
		},
		// Receipts (/v1/receipts/{seq}, /v1/receipts/tx/{hash}) come under Default: no body, and
		// each costs a KEM (about 150 us), so 16 at once.
		Default: Route{Slots: 16},
		Errors:  ErrorsJSON,
	}
}

// MetricsLimits sizes a Prometheus endpoint: one or two scrapers.
func MetricsLimits() Limits {
	return Limits{
		Timeouts:       Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: 2 * time.Minute},
		MaxHeaderBytes: 16 << 10,
		Routes:         map[string]Route{"/metrics": {Slots: 2}},
		Default:        Route{Slots: 2},
		Errors:         ErrorsText,
	}
}

// limited is a handler that carries the limits Listen serves it with.
type limited struct {
	http.Handler
	limits Limits
}

// WithLimits marks h to be served with l by Listen; unmarked handlers get
// RelayLimits.
func WithLimits(h http.Handler, l Limits) http.Handler { return limited{Handler: h, limits: l} }

// limitsOf is the limits h was marked with, or the relay API's.
func limitsOf(h http.Handler) Limits {
	if l, ok := h.(limited); ok {
		return l.limits
	}
	return RelayLimits()
}
