package enclave

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/enclave/fileutil"
)

// checkpointLabel separates checkpoints from other sealed data.
const checkpointLabel = "phala/worker/checkpoint/v1"

// checkpointVersion is the checkpoint format this code writes and reads.
// 2: the state has module sections (StateVersion 4). A checkpoint of
// another version is skipped, and the enclave replays from an older one or
// from genesis.
const checkpointVersion = 2

// keepCheckpoints is how many checkpoint files survive a new one: the
// newest may be torn by a crash of the disk, not of us (we rename), so one
// older stays.
const keepCheckpoints = 2

const checkpointExt = ".sealed"

// checkpoint is the plaintext of a checkpoint file. The state stays raw
// until the version is known, so a checkpoint of another format is refused
// by its number, not by a decoding error half way through.
type checkpoint struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	// Genesis is the hash of the enclave's genesis state: a checkpoint of
	// another chain (or another genesis of the same chain id) is refused.
	Genesis []byte
	State   codec.RawMessage
}

// checkpointStore writes and reads sealed checkpoints in one directory.
type checkpointStore struct {
	dir      string
	platform tee.Platform
	log      *slog.Logger
}

func (c checkpointStore) path(height int64) string {
	return filepath.Join(c.dir, strconv.FormatInt(height, 10)+checkpointExt)
}

// save seals st into <height>.sealed (temporary file, fsync, rename, fsync
// of the directory) and prunes all but the newest keepCheckpoints.
func (c checkpointStore) save(genesis []byte, st *State) error {
	blob, err := c.platform.Seal(checkpointLabel, codec.MustMarshal(checkpoint{Version: checkpointVersion, Genesis: genesis, State: codec.MustMarshal(st)}))
	if err != nil {
		return ErrPlatform.Wrapf("seal checkpoint: %v", err)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("checkpoint directory: %w", err)
	}
	if err := fileutil.WriteAtomic(c.path(st.Light.Height), blob); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	c.prune()
	return nil
}

// heights lists the checkpoint heights present, newest first.
func (c checkpointStore) heights() []int64 {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil
	}
	var hs []int64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), checkpointExt)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if h, err := strconv.ParseInt(name, 10, 64); err == nil && h >= 0 {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	slices.Reverse(hs)
	return hs
}

func (c checkpointStore) prune() {
	hs := c.heights()
	for _, h := range hs[min(len(hs), keepCheckpoints):] {
		if err := os.Remove(c.path(h)); err != nil {
			c.log.Warn("could not remove an old checkpoint", "height", h, "err", err)
		}
	}
}

// load returns the newest checkpoint that unseals, belongs to this
// genesis, identity and role, and that accept takes (the modules restore
// their sections from it); ok is false when there is none. Files that do
// not qualify are skipped with a log line, never deleted: an operator may
// want to look at them.
func (c checkpointStore) load(genesis []byte, want *State, accept func(State) error) (st State, ok bool) {
	for _, h := range c.heights() {
		st, err := c.open(c.path(h), genesis, want)
		if err == nil {
			err = accept(st)
		}
		if err != nil {
			c.log.Warn("skipping checkpoint", "file", c.path(h), "err", err)
			continue
		}
		return st, true
	}
	return State{}, false
}

func (c checkpointStore) open(path string, genesis []byte, want *State) (State, error) {
	blob, err := os.ReadFile(path)
	if err != nil {
		return State{}, err
	}
	plain, err := c.platform.Unseal(checkpointLabel, blob)
	if err != nil {
		return State{}, fmt.Errorf("sealed by another enclave or tampered: %w", err)
	}
	var cp checkpoint
	if err := codec.Unmarshal(plain, &cp); err != nil {
		return State{}, fmt.Errorf("malformed checkpoint: %w", err)
	}
	if cp.Version != checkpointVersion {
		return State{}, fmt.Errorf("checkpoint version %d, this enclave reads %d", cp.Version, checkpointVersion)
	}
	var st State
	if err := codec.Unmarshal(cp.State, &st); err != nil {
		return State{}, fmt.Errorf("malformed checkpoint state: %w", err)
	}
	switch {
	case st.Version != StateVersion:
		return State{}, fmt.Errorf("state version %d, this enclave reads %d", st.Version, StateVersion)
	case !bytes.Equal(cp.Genesis, genesis) || st.Light.ChainID != want.Light.ChainID:
		return State{}, fmt.Errorf("checkpoint of another chain or genesis (chain %q)", st.Light.ChainID)
	case !bytes.Equal(st.Identity, want.Identity):
		return State{}, fmt.Errorf("checkpoint of another identity key")
	case st.Role != want.Role:
		return State{}, fmt.Errorf("checkpoint of a %s, this runtime is a %s", st.Role, want.Role)
	case filepath.Base(path) != strconv.FormatInt(st.Light.Height, 10)+checkpointExt:
		return State{}, fmt.Errorf("checkpoint holds height %d", st.Light.Height)
	}
	return st, nil
}
