// Package endpoints records where a running network home serves: the
// validator's RPC and the public APIs of the workers that run beside it.
// `phala devnet` and `phala node` write it into their home at start and
// remove it at a clean stop, so a tool started later on the same home
// (`phala demo --home DIR`) finds them: worker ports are picked free at
// every start and are on no chain record yet.
//
// The file is a hint, not a trust root: a reader checks that the node
// answers, and clients check what workers sign against the chain.
package endpoints

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the record's name inside the home.
const FileName = "endpoints.json"

// File is what a running home serves.
type File struct {
	ChainID string `json:"chain_id"`
	// RPC is the validator's CometBFT RPC URL.
	RPC string `json:"rpc"`
	// Workers are the public API URLs of the workers running beside the
	// validator (none: it runs no TEE nodes).
	Workers []string `json:"workers"`
	// PID is the process serving them.
	PID int `json:"pid"`
}

// ErrNone: the home has no record, so nothing was started on it (or it
// stopped cleanly).
var ErrNone = errors.New("no running network recorded in this home")

// Path is where home keeps the record.
func Path(home string) string { return filepath.Join(home, FileName) }

// Write replaces home's record (a temporary file renamed over it, so a
// reader never sees half of one).
func Write(home string, f File) error {
	if f.Workers == nil {
		f.Workers = []string{}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := Path(home) + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("endpoints: %w", err)
	}
	if err := os.Rename(tmp, Path(home)); err != nil {
		return fmt.Errorf("endpoints: %w", err)
	}
	return nil
}

// Read loads home's record; ErrNone if there is none.
func Read(home string) (File, error) {
	data, err := os.ReadFile(Path(home))
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, fmt.Errorf("%s: %w", home, ErrNone)
	}
	if err != nil {
		return File{}, fmt.Errorf("endpoints: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return File{}, fmt.Errorf("endpoints %s: %w", Path(home), err)
	}
	if f.RPC == "" {
		return File{}, fmt.Errorf("endpoints %s: no rpc", Path(home))
	}
	return f, nil
}

// Remove deletes home's record (a clean stop); none is no error.
func Remove(home string) error {
	if err := os.Remove(Path(home)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("endpoints: %w", err)
	}
	return nil
}
