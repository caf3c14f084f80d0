package cmtwire

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
)

// randomBytes is n random bytes, or none one time in four so that the
// fields CometBFT encodes as nothing are exercised too.
func randomBytes(rng *rand.Rand, n int) []byte {
	if rng.IntN(4) == 0 {
		return nil
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func randomHeader(rng *rand.Rand) *cmttypes.Header {
	chainID := ""
	if rng.IntN(4) != 0 {
		chainID = string(randomBytes(rng, 1+rng.IntN(50)))
	}
	return &cmttypes.Header{
		Version: cmtversion.Consensus{Block: version.BlockProtocol, App: rng.Uint64N(3)},
		ChainID: chainID,
		Height:  rng.Int64N(1 << 40),
		Time:    time.Unix(rng.Int64N(1<<34)-1<<33, rng.Int64N(1e9)),
		LastBlockID: cmttypes.BlockID{
			Hash:          randomBytes(rng, HashSize),
			PartSetHeader: cmttypes.PartSetHeader{Total: rng.Uint32N(5), Hash: randomBytes(rng, HashSize)},
		},
		LastCommitHash:     randomBytes(rng, HashSize),
		DataHash:           randomBytes(rng, HashSize),
		ValidatorsHash:     randomBytes(rng, HashSize),
		NextValidatorsHash: randomBytes(rng, HashSize),
		ConsensusHash:      randomBytes(rng, HashSize),
		AppHash:            randomBytes(rng, rng.IntN(64)),
		LastResultsHash:    randomBytes(rng, HashSize),
		EvidenceHash:       randomBytes(rng, HashSize),
		ProposerAddress:    randomBytes(rng, AddressSize),
	}
}

// HeaderHash equals CometBFT's Header.Hash byte for byte, on random headers
// with any field empty, and on the edges: no validators hash (no hash at
// all), the zero time, times before 1970 and a time no protobuf timestamp
// holds (no hash either).
func TestHeaderHashIsCometBFTs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var headers []*cmttypes.Header
	for range 500 {
		headers = append(headers, randomHeader(rng))
	}
	for _, at := range []time.Time{{}, time.Unix(-5, 7), time.Unix(0, 0), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		h := randomHeader(rng)
		h.Time = at
		h.ValidatorsHash = randomBytes(rand.New(rand.NewPCG(1, 1)), HashSize)
		headers = append(headers, h)
	}
	h := randomHeader(rng)
	h.ValidatorsHash = nil
	headers = append(headers, h)

	for i, want := range headers {
		got := HeaderHash(want.ToProto())
		if !bytes.Equal(got, want.Hash()) {
			t.Fatalf("header %d: hash %x, CometBFT's %x", i, got, want.Hash())
		}
	}
}

// The wrappers are google.protobuf's one-field messages (field 1), and an
// empty value is no bytes at all, not an empty message: pinned here by
// hand because CometBFT's cdcEncode is not exported to compare with.
func TestWrapEncodings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []byte
	}{
		{"empty string", wrapString(""), nil},
		{"string", wrapString("ab"), []byte{0x0a, 2, 'a', 'b'}},
		{"zero", wrapInt64(0), nil},
		{"one", wrapInt64(1), []byte{0x08, 1}},
		{"300", wrapInt64(300), []byte{0x08, 0xac, 0x02}},
		{"minus one", wrapInt64(-1), []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"max", wrapInt64(math.MaxInt64), []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"nil bytes", wrapBytes(nil), nil},
		{"empty bytes", wrapBytes([]byte{}), nil},
		{"bytes", wrapBytes([]byte{0xde, 0xad}), []byte{0x0a, 2, 0xde, 0xad}},
	} {
		if !bytes.Equal(tc.got, tc.want) || (tc.want == nil) != (tc.got == nil) {
			t.Errorf("%s: %x, want %x", tc.name, tc.got, tc.want)
		}
	}
}
