package contractsapi

import (
	"bytes"
	"encoding/binary"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/errs"
)

// Expiry: what the chain does with work that never finishes. The escrow
// of commands whose results never arrive goes back to their senders after
// Params.ResultsTimeout blocks; an upload unfinished after
// Params.UploadTimeout blocks is dropped. Both happen at the end of a
// block, in height order, so every validator expires the same things.

// Events of expiry.
const (
	// EventExpired: a block's commands of a cluster got no results within
	// the timeout; each sender got its whole reserve back.
	EventExpired = "contracts.expired"
	// EventUploadExpired: an upload did not finish within the timeout and
	// was dropped (its fees are not refunded).
	EventUploadExpired = "contracts.upload_expired"
)

// TopicUploadDropped tells enclaves that an upload was dropped (payload
// UploadDropped): workers forget the chunks they assembled.
const TopicUploadDropped = "contracts.upload_dropped"

// UploadDropped is published on TopicUploadDropped.
type UploadDropped struct {
	_        struct{} `cbor:",toarray"`
	Uploader address.Address
	CodeHash Hash
}

// DecodeUploadDropped decodes a TopicUploadDropped payload (workers).
func DecodeUploadDropped(b []byte) (UploadDropped, error) {
	var d UploadDropped
	return d, decode(b, &d, "upload dropped")
}

// ErrResultsExpired: results for a block whose commands already expired
// (codes 30 and up: others' additions to this module take the codes after
// 15).
var ErrResultsExpired = errs.Register(Name, 30, "results come after the block's commands expired")

// State of expiry (items 0x20 and up, apart from the module's others).
var (
	// ExpiredKey marks a (height, cluster) whose commands expired.
	ExpiredKey = state.NewKeyFormat(state.ModuleContract, 0x20) // height (8 bytes BE) ‖ cluster → nothing
	// UploadExpiryKey indexes uploads under way by the height their
	// current attempt started, so the end of a block reads only the due
	// ones.
	UploadExpiryKey = state.NewKeyFormat(state.ModuleContract, 0x21) // started (8 bytes BE) ‖ uploader ‖ code hash → nothing
)

// ExpiredKeyOf is the state key marking (height, cluster) expired.
func ExpiredKeyOf(height int64, cluster string) []byte {
	return ExpiredKey.Key(heightBytes(height), []byte(cluster))
}

// UploadExpiryKeyOf is an upload's entry in the expiry index.
func UploadExpiryKeyOf(started int64, uploader address.Address, h Hash) []byte {
	return UploadExpiryKey.Key(heightBytes(started), uploader[:], h[:])
}

// ParseUploadExpiryKey reads an expiry index key back (false: not one).
func ParseUploadExpiryKey(key []byte) (started int64, uploader address.Address, h Hash, ok bool) {
	prefix := UploadExpiryKey.Prefix()
	if len(key) != len(prefix)+8+len(uploader)+len(h) || !bytes.HasPrefix(key, prefix) {
		return 0, uploader, h, false
	}
	body := key[len(prefix):]
	started = int64(binary.BigEndian.Uint64(body))
	copy(uploader[:], body[8:])
	copy(h[:], body[8+len(uploader):])
	return started, uploader, h, true
}

// ParseBlockCommandsKey reads a BlockCommandsKey back (false: not one).
func ParseBlockCommandsKey(key []byte) (height int64, cluster string, ok bool) {
	prefix := BlockCommandsKey.Prefix()
	if len(key) < len(prefix)+8 || !bytes.HasPrefix(key, prefix) {
		return 0, "", false
	}
	body := key[len(prefix):]
	return int64(binary.BigEndian.Uint64(body)), string(body[8:]), true
}
