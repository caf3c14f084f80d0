// Package snapshot is the state-sync snapshot of the application state:
// its wire form (metadata and chunks), taking snapshots in the background
// every N heights, keeping the last few on disk, and restoring one into an
// empty store.
//
// A snapshot of height h is the state tree after h, exported node by node
// (chain/store), each node one length-prefixed canonical-CBOR record, the
// record stream zstd-compressed and cut into chunks of ChunkSize bytes. The
// metadata names what the app hash after h commits to (state root,
// previous app hash, messages root) and the SHA-256 of every chunk, so a
// joining node checks the metadata against the light-client-verified app
// hash before fetching anything, each chunk against the metadata as it
// arrives, and the rebuilt tree's root at the end.
//
// Every honest validator produces byte-identical snapshots of a height
// (same tree, same export order, single-threaded compression at a fixed
// level), so a joining node can fetch chunks of one snapshot from many.
package snapshot

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/mq"
)

// Format is the snapshot format CometBFT carries in Snapshot.Format; a
// node refuses snapshots of any other.
const Format = 1

// ChunkSize is the size of every chunk but the last: well under
// CometBFT's 16 MB p2p chunk message, small enough to refetch cheaply.
const ChunkSize = 4 << 20

// MaxChunks bounds what a snapshot may announce (1 TiB of chunks), so a
// peer's metadata cannot make a node allocate without limit.
const MaxChunks = 1 << 18

// MaxRecord bounds one encoded tree node: a value cannot exceed a block.
const MaxRecord = 8 << 20

// Metadata describes one snapshot; it travels in Snapshot.Metadata and its
// SHA-256 is Snapshot.Hash.
type Metadata struct {
	_            struct{} `cbor:",toarray"`
	Version      uint32   // = Format
	Height       int64
	StateRoot    []byte // root of the state tree after Height
	PrevAppHash  []byte // app hash after Height-1
	MessagesRoot []byte // root of block Height's message list
	BlockTime    int64  // block Height's time, unix nanoseconds
	ChunkHashes  [][]byte
}

// ErrBadMetadata is wrapped by every refusal of a metadata's form.
var ErrBadMetadata = errors.New("snapshot: malformed metadata")

// Encode is the metadata's canonical encoding.
func (m Metadata) Encode() []byte { return codec.MustMarshal(m) }

// Hash is the snapshot's hash: SHA-256 of the encoded metadata.
func (m Metadata) Hash() []byte {
	h := sha256.Sum256(m.Encode())
	return h[:]
}

// AppHash is the app hash after Height that the metadata implies; a joining
// node accepts the snapshot only if it equals the one its light client
// verified.
func (m Metadata) AppHash(chainID string) []byte {
	return mq.NextAppHash(chainID, m.PrevAppHash, m.StateRoot, m.MessagesRoot)
}

// DecodeMetadata decodes and checks metadata from a peer: canonical CBOR
// only (one snapshot, one hash), this format, sane sizes.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	if err := codec.UnmarshalCanonical(b, &m); err != nil {
		return Metadata{}, fmt.Errorf("%w: %w", ErrBadMetadata, err)
	}
	if err := m.check(); err != nil {
		return Metadata{}, fmt.Errorf("%w: %w", ErrBadMetadata, err)
	}
	return m, nil
}

func (m Metadata) check() error {
	switch {
	case m.Version != Format:
		return fmt.Errorf("format %d, want %d", m.Version, Format)
	case m.Height < 1:
		return fmt.Errorf("height %d", m.Height)
	case len(m.StateRoot) != 32 || len(m.MessagesRoot) != 32 || len(m.PrevAppHash) != 32:
		return errors.New("roots and previous app hash must be 32 bytes")
	case len(m.ChunkHashes) == 0 || len(m.ChunkHashes) > MaxChunks:
		return fmt.Errorf("%d chunks (1..%d)", len(m.ChunkHashes), MaxChunks)
	}
	for i, h := range m.ChunkHashes {
		if len(h) != sha256.Size {
			return fmt.Errorf("chunk %d hash is %d bytes", i, len(h))
		}
	}
	return nil
}
