package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// passphraseSource reads a key passphrase without ever putting it on the
// command line: from a file, from PHALA_PASSPHRASE, or from the terminal.
type passphraseSource struct{ file string }

func (p *passphraseSource) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.file, "passphrase-file", "", "read the key passphrase from this file (for scripts); else PHALA_PASSPHRASE, else a prompt")
}

func (p *passphraseSource) get(prompt string) (string, error) {
	if p.file != "" {
		b, err := os.ReadFile(p.file)
		if err != nil {
			return "", fmt.Errorf("passphrase file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if v, ok := os.LookupEnv("PHALA_PASSPHRASE"); ok {
		return v, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", errors.New("no passphrase: use --passphrase-file or set PHALA_PASSPHRASE")
	}
	fmt.Fprint(os.Stderr, prompt)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}
