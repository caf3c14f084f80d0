package lightclient

import (
	"encoding/binary"
	"fmt"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// maxSignatureSize is CometBFT's types.MaxSignatureSize (the BLS size, the
// largest it knows). A longer signature makes the commit malformed; a
// shorter one that is not 64 bytes simply does not verify.
const maxSignatureSize = 96

// verifyOptions are the ed25519 rules CometBFT verifies votes with
// (crypto/ed25519 uses curve25519-voi with ZIP-215). Using the very same
// rules means the client accepts exactly the commits the chain accepts:
// stricter rules (crypto/ed25519's) would let a Byzantine validator craft
// a signature consensus counts and the enclave does not, stalling it.
var verifyOptions = &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215}

// decodeCommit parses an untrusted protobuf commit and checks what
// CometBFT's CommitFromProto checks.
func decodeCommit(raw []byte) (*cmtproto.Commit, error) {
	var c cmtproto.Commit
	if err := c.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("does not decode: %v", err)
	}
	if err := validateBlockID(&c.BlockID); err != nil {
		return nil, fmt.Errorf("block id: %v", err)
	}
	for i := range c.Signatures {
		if err := validateCommitSig(&c.Signatures[i]); err != nil {
			return nil, fmt.Errorf("signature %d: %v", i, err)
		}
	}
	if c.Height < 0 || c.Round < 0 {
		return nil, fmt.Errorf("negative height %d or round %d", c.Height, c.Round)
	}
	if c.Height >= 1 && blockIDIsNil(&c.BlockID) {
		return nil, fmt.Errorf("commit for no block")
	}
	if c.Height >= 1 && len(c.Signatures) == 0 {
		return nil, fmt.Errorf("no signatures")
	}
	return &c, nil
}

// validateCommitSig is CometBFT's CommitSig.ValidateBasic: an absent vote
// carries nothing, any other an address and a signature.
func validateCommitSig(s *cmtproto.CommitSig) error {
	switch s.BlockIdFlag {
	case cmtproto.BlockIDFlagAbsent:
		if len(s.ValidatorAddress) != 0 || !s.Timestamp.IsZero() || len(s.Signature) != 0 {
			return fmt.Errorf("absent vote carries an address, time or signature")
		}
		return nil
	case cmtproto.BlockIDFlagCommit, cmtproto.BlockIDFlagNil:
		if len(s.ValidatorAddress) != addressSize {
			return fmt.Errorf("validator address of %d bytes, want %d", len(s.ValidatorAddress), addressSize)
		}
		if len(s.Signature) == 0 || len(s.Signature) > maxSignatureSize {
			return fmt.Errorf("signature of %d bytes (1 to %d)", len(s.Signature), maxSignatureSize)
		}
		return nil
	default:
		return fmt.Errorf("unknown block id flag %d", s.BlockIdFlag)
	}
}

// verifyCommit is CometBFT's VerifyCommitLight for a set that signs by
// index: walking the signatures in order, every vote for the block is
// checked, and the walk stops as soon as they carry more than 2/3 of the
// set's power. Votes for nil and absent votes count for nothing. A bad
// signature before that point refuses the commit even if enough good ones
// follow, as in CometBFT; those after it are never looked at.
//
// Like CometBFT, the address a vote names is not checked: it is not signed,
// and the key that must have signed is the one at the vote's index.
func verifyCommit(chainID string, vals *validatorSet, c *cmtproto.Commit) error {
	if len(c.Signatures) != len(vals.validators) {
		return fmt.Errorf("%d signatures for a set of %d", len(c.Signatures), len(vals.validators))
	}
	needed := vals.total * 2 / 3
	var tallied int64
	for i := range c.Signatures {
		s := &c.Signatures[i]
		if s.BlockIdFlag != cmtproto.BlockIDFlagCommit {
			continue
		}
		v := &vals.validators[i]
		msg := voteSignBytes(chainID, c, s.Timestamp)
		if len(s.Signature) != ed25519.SignatureSize || !ed25519.VerifyWithOptions(v.PubKey, msg, s.Signature, verifyOptions) {
			return fmt.Errorf("wrong signature #%d (%s)", i, short(v.Address))
		}
		tallied += v.Power
		if tallied > needed {
			return nil
		}
	}
	return fmt.Errorf("signatures carry %d of the %d voting power needed to exceed 2/3 (%d)", tallied, vals.total, needed)
}

// voteSignBytes is what a validator signed for its precommit for c's block:
// CometBFT's VoteSignBytes, a CanonicalVote with the chain id, in protobuf,
// prefixed by its length as an unsigned varint.
func voteSignBytes(chainID string, c *cmtproto.Commit, at time.Time) []byte {
	cv := cmtproto.CanonicalVote{
		Type:      cmtproto.PrecommitType,
		Height:    c.Height,
		Round:     int64(c.Round),
		BlockID:   canonicalBlockID(&c.BlockID),
		Timestamp: at,
		ChainID:   chainID,
	}
	body, err := cv.Marshal()
	if err != nil {
		// Only a timestamp outside years 1 to 9999 fails to marshal, and
		// such a vote cannot have been signed: no bytes verify.
		return nil
	}
	out := binary.AppendUvarint(make([]byte, 0, len(body)+binary.MaxVarintLen64), uint64(len(body)))
	return append(out, body...)
}

// canonicalBlockID is CometBFT's CanonicalizeBlockID: none for a nil block.
func canonicalBlockID(id *cmtproto.BlockID) *cmtproto.CanonicalBlockID {
	if blockIDIsNil(id) {
		return nil
	}
	return &cmtproto.CanonicalBlockID{
		Hash: id.Hash,
		PartSetHeader: cmtproto.CanonicalPartSetHeader{
			Total: id.PartSetHeader.Total, Hash: id.PartSetHeader.Hash,
		},
	}
}
