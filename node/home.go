// Package node runs CometBFT in process for phala and lays out node home
// directories (single-validator devnets and multi-validator testnets).
//
// The ABCI application is opaque here: callers hand in an abci.Application
// and the raw JSON of its genesis app_state.
package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Home is a node home directory:
//
//	<home>/config/{config.toml,genesis.json,node_key.json,priv_validator_key.json}
//	<home>/data/      CometBFT stores and priv_validator_state.json
//	<home>/data/app/  reserved for the application's own store
//	<home>/logs/      cometbft.log
type Home string

// ErrNoHome is wrapped by errors about a home that was never initialised.
var ErrNoHome = errors.New("no node home")

// Dir is the home directory itself.
func (h Home) Dir() string { return string(h) }

// ConfigDir holds config.toml, genesis.json and the keys.
func (h Home) ConfigDir() string { return filepath.Join(string(h), "config") }

// DataDir holds CometBFT's databases and the validator sign state.
func (h Home) DataDir() string { return filepath.Join(string(h), "data") }

// AppDataDir is reserved for the application's own store.
func (h Home) AppDataDir() string { return filepath.Join(h.DataDir(), "app") }

// LogsDir holds cometbft.log.
func (h Home) LogsDir() string { return filepath.Join(string(h), "logs") }

// ConfigFile is the CometBFT config.toml.
func (h Home) ConfigFile() string { return filepath.Join(h.ConfigDir(), "config.toml") }

// GenesisFile is the genesis.json shared by every node of the network.
func (h Home) GenesisFile() string { return filepath.Join(h.ConfigDir(), "genesis.json") }

// LogFile is where CometBFT's own log lines go (never stdout).
func (h Home) LogFile() string { return filepath.Join(h.LogsDir(), "cometbft.log") }

// Exists reports whether the home was initialised (config.toml and genesis.json present).
func (h Home) Exists() bool {
	return isFile(h.ConfigFile()) && isFile(h.GenesisFile())
}

// errNoHome is the error every entry point returns for an uninitialised home,
// so the CLI prints one consistent hint.
func (h Home) errNoHome() error {
	return fmt.Errorf("%w at %s (run `phala devnet` or `phala testnet` first)", ErrNoHome, h.Dir())
}

// ensureDirs creates the layout; it never touches existing files.
func (h Home) ensureDirs() error {
	for _, d := range []string{h.ConfigDir(), h.DataDir(), h.AppDataDir(), h.LogsDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	return nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
