package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/relay"
	"github.com/phala-go/phala/relaywire"
)

// runtimeTokenFlags name the runtime's relay API token: the runtime writes
// it into its home at its first start (mode 0600), and only what can read
// that home (its operator's relay, the operator's own commands) can use the
// relay API. Pointing at the worker's home is the usual way; a separate
// file suits a relay running as another user the token was copied to.
type runtimeTokenFlags struct {
	file, workerHome string
}

func (t *runtimeTokenFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.workerHome, "worker-home", "", "the worker's --home: its relay API token is "+relaywire.TokenFile+" there")
	cmd.Flags().StringVar(&t.file, "runtime-token-file", "", "the runtime's relay API token file (default: "+relaywire.TokenFile+" in --worker-home)")
}

// path is the token file the flags name.
func (t *runtimeTokenFlags) path() (string, error) {
	switch {
	case t.file != "":
		return t.file, nil
	case t.workerHome != "":
		return filepath.Join(t.workerHome, relaywire.TokenFile), nil
	}
	return "", fmt.Errorf("the runtime's relay API needs its token: give --worker-home (the worker's --home) or --runtime-token-file")
}

// load reads the token. Errors name the file, never the secret.
func (t *runtimeTokenFlags) load() (string, error) {
	path, err := t.path()
	if err != nil {
		return "", err
	}
	tok, err := relay.ReadToken(path)
	if err != nil {
		return "", fmt.Errorf("runtime token %s: %w", path, err)
	}
	return tok, nil
}
