package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/snapshot"
)

// snapshots is the application's state-sync side: the manager that takes
// and serves snapshots, and the restore of an offered one in progress.
type snapshots struct {
	mgr       *snapshot.Manager
	scratch   string
	restoring *snapshot.Restorer
}

// EnableSnapshots makes the application take a snapshot every
// o.Interval heights (0: never) and keep the last o.Keep in o.Dir, serve
// them to joining nodes, and accept offered ones while its store is empty.
// Call it before the node starts.
func (a *App) EnableSnapshots(o snapshot.Options) error {
	if a.snap.mgr != nil {
		return errors.New("snapshots already enabled")
	}
	m, err := snapshot.NewManager(a.chainID, a.store, o, a.log)
	if err != nil {
		return err
	}
	a.snap = snapshots{mgr: m, scratch: snapshot.ScratchDir(o.Dir)}
	return nil
}

// closeSnapshots stops the snapshot loop and drops a restore in progress.
func (a *App) closeSnapshots() {
	if a.snap.restoring != nil {
		_ = a.snap.restoring.Close()
		a.snap.restoring = nil
	}
	if a.snap.mgr != nil {
		a.snap.mgr.Close()
	}
}

// ListSnapshots lists the snapshots on disk for peers.
func (a *App) ListSnapshots(context.Context, *abci.ListSnapshotsRequest) (*abci.ListSnapshotsResponse, error) {
	resp := &abci.ListSnapshotsResponse{}
	if a.snap.mgr == nil {
		return resp, nil
	}
	for _, s := range a.snap.mgr.List() {
		resp.Snapshots = append(resp.Snapshots, &abci.Snapshot{
			Height: uint64(s.Meta.Height), Format: snapshot.Format, Chunks: uint32(len(s.Meta.ChunkHashes)),
			Hash: s.Meta.Hash(), Metadata: s.Meta.Encode(),
		})
	}
	return resp, nil
}

// LoadSnapshotChunk serves one chunk (empty if the snapshot is gone).
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.LoadSnapshotChunkRequest) (*abci.LoadSnapshotChunkResponse, error) {
	if a.snap.mgr == nil || req.Height > 1<<62 {
		return &abci.LoadSnapshotChunkResponse{}, nil
	}
	chunk, err := a.snap.mgr.LoadChunk(int64(req.Height), req.Format, req.Chunk)
	if err != nil {
		return nil, fmt.Errorf("load snapshot chunk: %w", err)
	}
	return &abci.LoadSnapshotChunkResponse{Chunk: chunk}, nil
}

// OfferSnapshot accepts a snapshot only if its metadata reproduces the app
// hash CometBFT's light client verified for its height: that binds the
// state root the restored tree must hash to.
func (a *App) OfferSnapshot(_ context.Context, req *abci.OfferSnapshotRequest) (*abci.OfferSnapshotResponse, error) {
	res, err := a.offer(req)
	if err != nil {
		a.log.Warn("snapshot refused", "height", snapHeight(req.Snapshot), "result", res.String(), "err", err)
	}
	return &abci.OfferSnapshotResponse{Result: res}, nil
}

func snapHeight(s *abci.Snapshot) uint64 {
	if s == nil {
		return 0
	}
	return s.Height
}

func (a *App) offer(req *abci.OfferSnapshotRequest) (abci.OfferSnapshotResult, error) {
	s := req.Snapshot
	switch {
	case a.snap.mgr == nil:
		return abci.OFFER_SNAPSHOT_RESULT_ABORT, errors.New("snapshots are not enabled")
	case s == nil:
		return abci.OFFER_SNAPSHOT_RESULT_REJECT, errors.New("no snapshot")
	case s.Format != snapshot.Format:
		return abci.OFFER_SNAPSHOT_RESULT_REJECT_FORMAT, fmt.Errorf("format %d", s.Format)
	case a.last.AppHash != nil:
		// Restoring over a chain would lose it; CometBFT only state-syncs
		// an empty node, so this is a misconfiguration: stop trying.
		return abci.OFFER_SNAPSHOT_RESULT_ABORT, fmt.Errorf("the store already holds height %d", a.last.Height)
	}
	md, err := snapshot.DecodeMetadata(s.Metadata)
	if err != nil {
		return abci.OFFER_SNAPSHOT_RESULT_REJECT, err
	}
	switch {
	case uint64(md.Height) != s.Height:
		return abci.OFFER_SNAPSHOT_RESULT_REJECT, fmt.Errorf("metadata of height %d offered as %d", md.Height, s.Height)
	case int(s.Chunks) != len(md.ChunkHashes):
		return abci.OFFER_SNAPSHOT_RESULT_REJECT, fmt.Errorf("%d chunks offered, metadata names %d", s.Chunks, len(md.ChunkHashes))
	case !bytes.Equal(s.Hash, md.Hash()):
		return abci.OFFER_SNAPSHOT_RESULT_REJECT, errors.New("snapshot hash is not the metadata's")
	case !bytes.Equal(md.AppHash(a.chainID), req.AppHash):
		return abci.OFFER_SNAPSHOT_RESULT_REJECT, fmt.Errorf("metadata implies app hash %X, the verified header says %X", md.AppHash(a.chainID), req.AppHash)
	}
	if a.snap.restoring != nil {
		_ = a.snap.restoring.Close()
	}
	r, err := snapshot.NewRestorer(a.chainID, a.store, md, a.snap.scratch)
	if err != nil {
		return abci.OFFER_SNAPSHOT_RESULT_ABORT, err
	}
	a.snap.restoring = r
	return abci.OFFER_SNAPSHOT_RESULT_ACCEPT, nil
}

// ApplySnapshotChunk takes the accepted snapshot's chunks in order. A chunk
// that does not match its hash is fetched again, and its sender is dropped;
// after the last chunk the state is rebuilt and its root checked.
func (a *App) ApplySnapshotChunk(ctx context.Context, req *abci.ApplySnapshotChunkRequest) (*abci.ApplySnapshotChunkResponse, error) {
	res := a.applyChunk(ctx, req)
	if res.Result != abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT {
		a.log.Warn("snapshot chunk refused", "index", req.Index, "sender", req.Sender, "result", res.Result.String())
	}
	return res, nil
}

func (a *App) applyChunk(ctx context.Context, req *abci.ApplySnapshotChunkRequest) *abci.ApplySnapshotChunkResponse {
	r := a.snap.restoring
	if r == nil {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}
	}
	if err := r.Add(int(req.Index), req.Chunk); err != nil {
		if errors.Is(err, snapshot.ErrChunkHash) {
			resp := &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY, RefetchChunks: []uint32{req.Index}}
			if req.Sender != "" {
				resp.RejectSenders = []string{req.Sender}
			}
			return resp
		}
		if errors.Is(err, snapshot.ErrChunkOrder) {
			// CometBFT applies chunks in order; anything else is its
			// state gone wrong: start over with another snapshot.
			return a.dropRestore(abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY_SNAPSHOT, err)
		}
		return a.dropRestore(abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT, err)
	}
	if !r.Done() {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT}
	}
	return a.finishRestore(ctx, r)
}

// finishRestore rebuilds the state; a tree that does not hash to the
// verified root means the chunk hashes themselves were forged: the
// snapshot (every chunk of it) is refused and the store left empty.
func (a *App) finishRestore(ctx context.Context, r *snapshot.Restorer) *abci.ApplySnapshotChunkResponse {
	a.snap.restoring = nil
	start := time.Now()
	meta, err := r.Restore(ctx)
	if err != nil {
		a.log.Warn("snapshot restore failed", "height", r.Metadata().Height, "err", err)
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_REJECT_SNAPSHOT}
	}
	if err := a.load(); err != nil {
		return a.dropRestore(abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT, err)
	}
	a.log.Info("state restored from snapshot", "height", meta.Height, "took", time.Since(start).Round(time.Millisecond))
	return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT}
}

func (a *App) dropRestore(res abci.ApplySnapshotChunkResult, err error) *abci.ApplySnapshotChunkResponse {
	a.log.Warn("snapshot restore dropped", "err", err)
	if a.snap.restoring != nil {
		_ = a.snap.restoring.Close()
		a.snap.restoring = nil
	}
	return &abci.ApplySnapshotChunkResponse{Result: res}
}
