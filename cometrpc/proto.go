package cometrpc

import (
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"

	"github.com/phala-go/phala/cmtwire"
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
// LastBlockID name. Like CometBFT's, it is nil for a header without a
// validators hash, and for a time no protobuf timestamp can hold.
func (h *Header) Hash() HexBytes {
	return cmtwire.HeaderHash(h.Proto())
}
