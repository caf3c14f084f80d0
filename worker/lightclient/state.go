package lightclient

import "time"

// State is the verified position; it is checkpointed (canonical CBOR, toarray).
type State struct {
	_          struct{} `cbor:",toarray"`
	ChainID    string
	Height     int64  // last verified header (0 = genesis, nothing verified yet)
	BlockHash  []byte // its hash (nil at genesis)
	Time       int64  // its time, unix nanoseconds (the genesis time at genesis)
	AppHash    []byte // the app hash it carries (nil at genesis)
	Validators []byte // CometBFT protobuf ValidatorSet that must sign the next header
}

// Header times are kept as int64 nanoseconds; refuse what does not fit.
var (
	minTime = time.Unix(0, -1<<63)
	maxTime = time.Unix(0, 1<<63-1)
)

func inNanoRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }
