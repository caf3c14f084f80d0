package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/sdk/newcontract"
	"github.com/phala-go/phala/vm/wasmbuild"
)

func newContractCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "Write, build and verify confidential contracts"}
	cmd.AddCommand(contractNewCmd(), contractBuildCmd(), contractVerifyCmd())
	cmd.AddCommand(contractChainCmds()...)
	return cmd
}

func contractBuildCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build DIR [--out FILE]",
		Short: "Build a Go contract into a wasm module and print its code hash",
		Long: `Build the Go main package in DIR with the standard toolchain
(GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false
-buildmode=c-shared) into FILE (default DIR/NAME.wasm), then print the output
path, the sha256 code hash and the Go version. The build is reproducible:
the same source with the same Go version gives the same code hash on every
machine (see phala contract verify).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := wasmbuild.Build(cmd.Context(), args[0], out)
			if err != nil {
				return err
			}
			return emit(r, func() string {
				return fmt.Sprintf("built %s (%d bytes, %s)\ncode hash %s", r.Path, r.Size, r.GoVersion, r.Hash)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (default DIR/NAME.wasm)")
	return cmd
}

func contractNewCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "new NAME [--dir DIR]",
		Short: "Write a new contract that builds on its own, outside this repository",
		Long: `Write a Go module for contract NAME into DIR (default ./NAME): a starter
contract (main.go: a private counter per caller), its go.mod, and a copy of
the SDK in DIR/phala-sdk as a local module (replace directive), so
'phala contract build DIR' works anywhere with the Go toolchain alone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				dir = args[0]
			}
			version, err := wasmbuild.LanguageVersion(cmd.Context())
			if err != nil {
				return err
			}
			if err := newcontract.Write(dir, args[0], version); err != nil {
				return err
			}
			abs, _ := filepath.Abs(dir)
			out := struct {
				Name string `json:"name"`
				Dir  string `json:"dir"`
			}{args[0], abs}
			return emit(out, func() string {
				return fmt.Sprintf("wrote contract %s in %s\nbuild it: phala contract build %s", out.Name, out.Dir, dir)
			})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder to create (default ./NAME); must not exist")
	return cmd
}

func contractVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify DIR CODE_HASH",
		Short: "Rebuild a contract from source and check it has the given code hash",
		Long: `Rebuild the contract in DIR (into a temporary file, leaving the source
folder as it is) and compare its sha256 with CODE_HASH, the code id of a
deployed contract. Exits non-zero when they differ. A rebuild gives the same
hash only with the same Go version the contract was built with.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			want := strings.ToLower(strings.TrimPrefix(args[1], "0x"))
			tmp, err := os.MkdirTemp("", "phala-verify")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			r, err := wasmbuild.Build(cmd.Context(), args[0], filepath.Join(tmp, "contract.wasm"))
			if err != nil {
				return err
			}
			out := struct {
				Match     bool   `json:"match"`
				Want      string `json:"want_code_hash"`
				Got       string `json:"built_code_hash"`
				GoVersion string `json:"go_version"`
			}{r.Hash == want, want, r.Hash, r.GoVersion}
			if err := emit(out, func() string {
				if out.Match {
					return fmt.Sprintf("verified: %s builds to code hash %s (%s)", args[0], r.Hash, r.GoVersion)
				}
				return fmt.Sprintf("MISMATCH: %s builds to %s with %s, not %s", args[0], r.Hash, r.GoVersion, want)
			}); err != nil {
				return err
			}
			if !out.Match {
				return fmt.Errorf("code hash mismatch: the source in %s (built with %s) is not the code %s; check the Go version and the source revision", args[0], r.GoVersion, want)
			}
			return nil
		},
	}
	return cmd
}
