package cometrpc

import (
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	"github.com/cometbft/cometbft/crypto/merkle"
	gogotypes "github.com/cosmos/gogoproto/types"
)

// Proto is the header as CometBFT's protobuf message, field for field.
func (h *Header) Proto() *cmtproto.Header {
	return &cmtproto.Header{
		Version:            cmtversion.Consensus{Block: h.Version.Block, App: h.Version.App},
		ChainID:            h.ChainID,
		Height:             h.Height,
		Time:               h.Time,
		LastBlockId:        *h.LastBlockID.Proto(),
		LastCommitHash:     h.LastCommitHash,
		DataHash:           h.DataHash,
		ValidatorsHash:     h.ValidatorsHash,
		NextValidatorsHash: h.NextValidatorsHash,
		ConsensusHash:      h.ConsensusHash,
		AppHash:            h.AppHash,
		LastResultsHash:    h.LastResultsHash,
		EvidenceHash:       h.EvidenceHash,
		ProposerAddress:    h.ProposerAddress,
	}
}

// Proto is the block id as CometBFT's protobuf message.
func (id *BlockID) Proto() *cmtproto.BlockID {
	return &cmtproto.BlockID{
		Hash:          id.Hash,
		PartSetHeader: cmtproto.PartSetHeader{Total: id.Parts.Total, Hash: id.Parts.Hash},
	}
}

// Proto is the commit as CometBFT's protobuf message.
func (c *Commit) Proto() *cmtproto.Commit {
	sigs := make([]cmtproto.CommitSig, len(c.Signatures))
	for i, s := range c.Signatures {
		sigs[i] = cmtproto.CommitSig{
			BlockIdFlag:      cmtproto.BlockIDFlag(s.BlockIDFlag),
			ValidatorAddress: s.ValidatorAddress,
			Timestamp:        s.Timestamp,
			Signature:        s.Signature,
		}
	}
	return &cmtproto.Commit{Height: c.Height, Round: c.Round, BlockID: *c.BlockID.Proto(), Signatures: sigs}
}

// Hash is the header's hash, which block ids and the next header's
// LastBlockID name: the Merkle root of its fields, each in its protobuf
// encoding (scalars as google.protobuf wrapper messages, empty ones as no
// bytes), in field order. Like CometBFT's, it is nil for a header without
// a validators hash, and for a time no protobuf timestamp can hold.
func (h *Header) Hash() HexBytes {
	if len(h.ValidatorsHash) == 0 {
		return nil
	}
	version, err := (&cmtversion.Consensus{Block: h.Version.Block, App: h.Version.App}).Marshal()
	if err != nil {
		return nil
	}
	stamp, err := gogotypes.StdTimeMarshal(h.Time)
	if err != nil {
		return nil
	}
	lastID, err := h.LastBlockID.Proto().Marshal()
	if err != nil {
		return nil
	}
	return merkle.HashFromByteSlices([][]byte{
		version, wrappedString(h.ChainID), wrappedInt64(h.Height), stamp, lastID,
		wrappedBytes(h.LastCommitHash), wrappedBytes(h.DataHash),
		wrappedBytes(h.ValidatorsHash), wrappedBytes(h.NextValidatorsHash),
		wrappedBytes(h.ConsensusHash), wrappedBytes(h.AppHash),
		wrappedBytes(h.LastResultsHash), wrappedBytes(h.EvidenceHash),
		wrappedBytes(h.ProposerAddress),
	})
}

// The wrapped functions encode a header field the way CometBFT's hashing
// does. Marshalling a one-field wrapper cannot fail; a nil on error would
// only make the hash match nothing.

func wrappedString(s string) []byte {
	if s == "" {
		return nil
	}
	b, _ := (&gogotypes.StringValue{Value: s}).Marshal()
	return b
}

func wrappedInt64(n int64) []byte {
	if n == 0 {
		return nil
	}
	b, _ := (&gogotypes.Int64Value{Value: n}).Marshal()
	return b
}

func wrappedBytes(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	b, _ := (&gogotypes.BytesValue{Value: v}).Marshal()
	return b
}
