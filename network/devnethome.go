package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/node"
)

// incompleteMarker is written into a home before CreateDevnet lays it out
// and removed once the layout is whole. A home that still has it was left
// by a first start that stopped half way: its config may exist while its
// keys do not, and it must not be resumed as if made.
const incompleteMarker = "init-incomplete"

func markerPath(home node.Home) string { return filepath.Join(home.Dir(), incompleteMarker) }

// DevnetMade reports whether home holds a whole development network (made
// by a CreateDevnet that completed, or by any earlier version that wrote
// config.toml and genesis.json).
func DevnetMade(home node.Home) bool {
	return home.Exists() && !fileExists(markerPath(home))
}

// CreateDevnet lays out a development network in home, clearing what an
// interrupted earlier attempt left there. It checks the ports before
// writing anything, so a taken port leaves nothing that a later start could
// mistake for a made home with that port in it.
func CreateDevnet(home node.Home, o DevnetOptions) error {
	if DevnetMade(home) {
		return fmt.Errorf("development network %s already exists", home.Dir())
	}
	if err := node.CheckPortsFree(o.Ports); err != nil {
		return err
	}
	if err := removeHalfMade(home); err != nil {
		return err
	}
	if err := os.MkdirAll(home.Dir(), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", home.Dir(), err)
	}
	if err := os.WriteFile(markerPath(home), []byte("phala devnet: first start did not finish; the next start lays this home out again\n"), 0o600); err != nil {
		return fmt.Errorf("creating %s: %w", home.Dir(), err)
	}
	if err := InitDevnet(home, o); err != nil {
		return err
	}
	if err := os.Remove(markerPath(home)); err != nil {
		return fmt.Errorf("completing %s: %w", home.Dir(), err)
	}
	return nil
}

// removeHalfMade deletes what an interrupted CreateDevnet wrote. It only
// acts on a home carrying the marker and only removes the parts a layout
// makes, so other files a user keeps there survive. Nothing in them has
// value: the chain never ran (a start only follows a completed layout).
func removeHalfMade(home node.Home) error {
	if !fileExists(markerPath(home)) {
		return nil
	}
	parts := []string{home.ConfigDir(), home.DataDir(), home.LogsDir(), KeyringDir(home)}
	for _, dir := range parts {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clearing the half-made home %s: %w", home.Dir(), err)
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
