package cmtwire

import (
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cometbft/cometbft/crypto/tmhash"
	gogotypes "github.com/cosmos/gogoproto/types"
)

// HashSize is the size of every hash a header carries and of the header's
// own hash (CometBFT's tmhash.Size).
const HashSize = tmhash.Size

// HeaderHash is CometBFT's Header.Hash: the Merkle root of the header's
// fields, each in its protobuf encoding (scalars wrapped as
// google.protobuf wrapper messages), in field order. Block ids and the next
// header's LastBlockId name a block by it.
//
// Like CometBFT's it is nil for a header without a validators hash, and for
// a time that no protobuf timestamp can hold; such a hash matches nothing.
func HeaderHash(h *cmtproto.Header) []byte {
	if len(h.ValidatorsHash) == 0 {
		return nil
	}
	version, err := h.Version.Marshal()
	if err != nil {
		return nil
	}
	stamp, err := gogotypes.StdTimeMarshal(h.Time)
	if err != nil {
		return nil
	}
	lastID, err := h.LastBlockId.Marshal()
	if err != nil {
		return nil
	}
	return merkle.HashFromByteSlices([][]byte{
		version,
		wrapString(h.ChainID),
		wrapInt64(h.Height),
		stamp,
		lastID,
		wrapBytes(h.LastCommitHash),
		wrapBytes(h.DataHash),
		wrapBytes(h.ValidatorsHash),
		wrapBytes(h.NextValidatorsHash),
		wrapBytes(h.ConsensusHash),
		wrapBytes(h.AppHash),
		wrapBytes(h.LastResultsHash),
		wrapBytes(h.EvidenceHash),
		wrapBytes(h.ProposerAddress),
	})
}

// The wrap functions encode one scalar header field as CometBFT's cdcEncode
// does: an empty value is no bytes at all (not an empty wrapper), anything
// else the wrapper message. Marshalling a one-field wrapper cannot fail; nil
// on error would only make the hash match nothing.

func wrapString(s string) []byte {
	if s == "" {
		return nil
	}
	b, _ := (&gogotypes.StringValue{Value: s}).Marshal()
	return b
}

func wrapInt64(n int64) []byte {
	if n == 0 {
		return nil
	}
	b, _ := (&gogotypes.Int64Value{Value: n}).Marshal()
	return b
}

func wrapBytes(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	b, _ := (&gogotypes.BytesValue{Value: v}).Marshal()
	return b
}
