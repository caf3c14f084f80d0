package enclave

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/benchmark"
	"github.com/phala-go/phala/worker/enclave/fileutil"
)

// ScoreFile holds the performance score a worker measured at its first
// start, sealed. The score goes to the chain in egress, and egress must be
// the same bytes whenever the enclave folds the same blocks (a replay
// after a crash regenerates it), so it is measured once and kept, like
// the operator; a worker that wants a new measurement starts a new home.
const ScoreFile = "score.sealed"

// DefaultBenchmarkTime is how long a worker measures its score.
const DefaultBenchmarkTime = 250 * time.Millisecond

const scoreSealLabel = "phala/worker/score/v1"

// sealedScore is the plaintext of ScoreFile, bound to the chain and node.
type sealedScore struct {
	_           struct{} `cbor:",toarray"`
	Version     uint8
	ChainID     string
	IdentityKey ed25519.PublicKey
	Score       uint64
	Steps       uint64
	Elapsed     int64 // ns
}

// measureScore returns the sealed score, or measures it for d (0: the
// default) and seals it.
func measureScore(p tee.Platform, home, chainID string, id ed25519.PublicKey, d time.Duration) (benchmark.Result, error) {
	path := filepath.Join(home, ScoreFile)
	if r, ok, err := readScore(p, path, chainID, id); err != nil || ok {
		return r, err
	}
	if d <= 0 {
		d = DefaultBenchmarkTime
	}
	r, err := benchmark.Measure(d, time.Now)
	if err != nil {
		return r, ErrScore.Wrapf("%v", err)
	}
	if r.Score == 0 {
		r.Score = 1 // the chain takes scores from 1; too slow to compute is the chain's call
	}
	plain := codec.MustMarshal(sealedScore{Version: 1, ChainID: chainID, IdentityKey: id, Score: r.Score, Steps: r.Steps, Elapsed: int64(r.Elapsed)})
	blob, err := p.Seal(scoreSealLabel, plain)
	if err != nil {
		return r, ErrPlatform.Wrapf("seal score: %v", err)
	}
	if err := fileutil.WriteAtomic(path, blob); err != nil {
		return r, ErrScore.Wrapf("write %s: %v", path, err)
	}
	return r, nil
}

// readScore unseals path; ok is false when there is no file.
func readScore(p tee.Platform, path, chainID string, id ed25519.PublicKey) (benchmark.Result, bool, error) {
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return benchmark.Result{}, false, nil
	}
	if err != nil {
		return benchmark.Result{}, false, ErrScore.Wrapf("read %s: %v", path, err)
	}
	plain, err := p.Unseal(scoreSealLabel, blob)
	if err != nil {
		return benchmark.Result{}, false, ErrScore.Wrapf("%s was not sealed by this enclave: %v", path, err)
	}
	var s sealedScore
	switch err := codec.Unmarshal(plain, &s); {
	case err != nil || s.Version != 1:
		return benchmark.Result{}, false, ErrScore.Wrapf("%s: malformed (version %d): %v", path, s.Version, err)
	case s.ChainID != chainID || !bytes.Equal(s.IdentityKey, id):
		return benchmark.Result{}, false, ErrScore.Wrapf("%s belongs to another node or chain (%q)", path, s.ChainID)
	case s.Score == 0:
		return benchmark.Result{}, false, ErrScore.Wrapf("%s holds no score", path)
	}
	return benchmark.Result{Score: s.Score, Steps: s.Steps, Elapsed: time.Duration(s.Elapsed)}, true, nil
}
