package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/vm/wasmbuild"
)

func newContractCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "Build confidential contracts"}
	cmd.AddCommand(contractBuildCmd())
	return cmd
}

func contractBuildCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build DIR [--out FILE]",
		Short: "Build a Go contract into a wasm module and print its code hash",
		Long: `Build the Go main package in DIR with the standard toolchain
(GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared) into FILE
(default DIR/NAME.wasm), then print the output path and the sha256 code hash.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := wasmbuild.Build(cmd.Context(), args[0], out)
			if err != nil {
				return err
			}
			return emit(r, func() string {
				return fmt.Sprintf("built %s (%d bytes)\ncode hash %s", r.Path, r.Size, r.Hash)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (default DIR/NAME.wasm)")
	return cmd
}
