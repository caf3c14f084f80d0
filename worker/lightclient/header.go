package lightclient

import (
	"fmt"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/phala-go/phala/cmtwire"
)

// blockProtocol is the block version CometBFT v1 writes and its header
// validation insists on (version.BlockProtocol); a test pins it to
// CometBFT's constant.
const blockProtocol = 11

// maxChainIDLen is CometBFT's limit on a chain id (types.MaxChainIDLen).
const maxChainIDLen = 50

// header is a decoded, basically valid header. The protobuf form is kept
// because the header hash is taken over the protobuf encodings of its
// fields, and the time is kept in UTC as a time.Time for comparisons.
type header struct {
	*cmtproto.Header
	time time.Time
}

// decodeHeader parses an untrusted protobuf header and checks what
// CometBFT's HeaderFromProto checks, plus that its time fits in the
// int64 nanoseconds State keeps.
func decodeHeader(b []byte) (header, error) {
	var ph cmtproto.Header
	if err := ph.Unmarshal(b); err != nil {
		return header{}, err
	}
	if err := validateHeader(&ph); err != nil {
		return header{}, err
	}
	if !inNanoRange(ph.Time) {
		return header{}, fmt.Errorf("time %v out of range", ph.Time)
	}
	return header{Header: &ph, time: ph.Time.UTC()}, nil
}

// validateHeader is CometBFT's Header.ValidateBasic on the protobuf form.
func validateHeader(h *cmtproto.Header) error {
	if h.Version.Block != blockProtocol {
		return fmt.Errorf("block protocol %d, want %d", h.Version.Block, blockProtocol)
	}
	if len(h.ChainID) > maxChainIDLen {
		return fmt.Errorf("chain id of %d bytes, at most %d", len(h.ChainID), maxChainIDLen)
	}
	if h.Height <= 0 {
		return fmt.Errorf("height %d is not positive", h.Height)
	}
	if err := validateBlockID(&h.LastBlockId); err != nil {
		return fmt.Errorf("last block id: %v", err)
	}
	if len(h.ProposerAddress) != addressSize {
		return fmt.Errorf("proposer address of %d bytes, want %d", len(h.ProposerAddress), addressSize)
	}
	// The app hash is the application's business and may have any length.
	for _, f := range []struct {
		name string
		hash []byte
	}{
		{"last commit hash", h.LastCommitHash}, {"data hash", h.DataHash},
		{"evidence hash", h.EvidenceHash}, {"validators hash", h.ValidatorsHash},
		{"next validators hash", h.NextValidatorsHash}, {"consensus hash", h.ConsensusHash},
		{"last results hash", h.LastResultsHash},
	} {
		if err := validateHash(f.hash); err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
	}
	return nil
}

// validateBlockID is CometBFT's BlockID.ValidateBasic: hashes are empty or
// full size.
func validateBlockID(id *cmtproto.BlockID) error {
	if err := validateHash(id.Hash); err != nil {
		return fmt.Errorf("hash: %v", err)
	}
	if err := validateHash(id.PartSetHeader.Hash); err != nil {
		return fmt.Errorf("part set hash: %v", err)
	}
	return nil
}

func blockIDIsNil(id *cmtproto.BlockID) bool {
	return len(id.Hash) == 0 && id.PartSetHeader.Total == 0 && len(id.PartSetHeader.Hash) == 0
}

// validateHash is CometBFT's ValidateHash: empty or 32 bytes.
func validateHash(h []byte) error {
	if len(h) != 0 && len(h) != cmtwire.HashSize {
		return fmt.Errorf("%d bytes, want %d or none", len(h), cmtwire.HashSize)
	}
	return nil
}

// hash is the header's hash, which the next header's LastBlockId and the
// commit's block id name; nil for a header without a validators hash.
func (h header) hash() []byte {
	return cmtwire.HeaderHash(h.Header)
}
