package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/crypto/keyring"
)

type keyringFlags struct {
	dir  string
	pass passphraseSource
}

func (k *keyringFlags) register(cmd *cobra.Command, needsPassphrase bool) {
	cmd.Flags().StringVar(&k.dir, "keyring", "", "directory of key files (default: $"+envKeyring+", else the client config's keyring, else ~/.phala/keys)")
	markConfigBacked(cmd, "keyring")
	if needsPassphrase {
		k.pass.register(cmd)
	}
}

func (k *keyringFlags) open() *keyring.Keyring { return keyring.Open(k.dir) }

type keyJSON struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// AddressHex is the address as contracts read it (the SDK's Address
	// in JSON arguments is hex).
	AddressHex string `json:"address_hex"`
	PublicKey  string `json:"public_key"`
}

func keyOut(i keyring.Info) keyJSON {
	return keyJSON{Name: i.Name, Address: i.Address.String(), AddressHex: hex.EncodeToString(i.Address[:]), PublicKey: hex.EncodeToString(i.PublicKey)}
}

func printKey(i keyring.Info) error {
	out := keyOut(i)
	return emit(out, func() string {
		return fmt.Sprintf("%s\t%s\t(hex, for contract arguments: %s)", out.Name, out.Address, out.AddressHex)
	})
}

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage account keys (passphrase-encrypted files)"}
	cmd.AddCommand(keysAddCmd(), keysListCmd(), keysShowCmd(), keysExportCmd(), keysImportCmd(), keysDeleteCmd())
	return cmd
}

func keysAddCmd() *cobra.Command {
	var k keyringFlags
	cmd := &cobra.Command{
		Use: "add NAME", Short: "Generate a new key", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			pass, err := k.pass.get("passphrase for the new key: ")
			if err != nil {
				return err
			}
			info, err := k.open().Add(args[0], pass)
			if err != nil {
				return err
			}
			return printKey(info)
		},
	}
	k.register(cmd, true)
	return cmd
}

func keysListCmd() *cobra.Command {
	var k keyringFlags
	cmd := &cobra.Command{
		Use: "list", Short: "List keys", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			infos, err := k.open().List()
			if err != nil {
				return err
			}
			out := make([]keyJSON, len(infos))
			var lines []string
			for i, info := range infos {
				out[i] = keyOut(info)
				lines = append(lines, fmt.Sprintf("%s\t%s", info.Name, info.Address))
			}
			return emit(out, func() string { return strings.Join(lines, "\n") })
		},
	}
	k.register(cmd, false)
	return cmd
}

func keysShowCmd() *cobra.Command {
	var k keyringFlags
	cmd := &cobra.Command{
		Use: "show NAME", Short: "Show a key's address and public key", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			info, err := k.open().Show(args[0])
			if err != nil {
				return err
			}
			return printKey(info)
		},
	}
	k.register(cmd, false)
	return cmd
}

func keysExportCmd() *cobra.Command {
	var (
		k       keyringFlags
		out     string
		newPass passphraseSource
		rawSeed bool
	)
	cmd := &cobra.Command{
		Use: "export NAME", Short: "Export a key as an encrypted key file", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			pass, err := k.pass.get("passphrase of the key: ")
			if err != nil {
				return err
			}
			if rawSeed {
				seed, err := k.open().UnsafeExportSeed(args[0], pass)
				if err != nil {
					return err
				}
				fmt.Println(hex.EncodeToString(seed))
				return nil
			}
			exportPass := pass
			if newPass.file != "" {
				if exportPass, err = newPass.get(""); err != nil {
					return err
				}
			}
			data, err := k.open().Export(args[0], pass, exportPass)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = os.Stdout.Write(data)
				return err
			}
			return os.WriteFile(out, data, 0o600)
		},
	}
	k.register(cmd, true)
	cmd.Flags().StringVar(&out, "out", "", "write the exported file here (default stdout)")
	cmd.Flags().StringVar(&newPass.file, "export-passphrase-file", "", "encrypt the export under this passphrase (default: the key's own)")
	cmd.Flags().BoolVar(&rawSeed, "unsafe-raw-seed", false, "print the unencrypted 32-byte seed in hex (anyone who sees it owns the account)")
	return cmd
}

func keysImportCmd() *cobra.Command {
	var (
		k        keyringFlags
		seedHex  string
		filePass passphraseSource
	)
	cmd := &cobra.Command{
		Use: "import NAME [FILE]", Short: "Import an exported key file, or a hex seed with --seed-hex", Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			pass, err := k.pass.get("passphrase for the imported key: ")
			if err != nil {
				return err
			}
			var info keyring.Info
			switch {
			case seedHex != "":
				seed, err := hex.DecodeString(strings.TrimSpace(seedHex))
				if err != nil {
					return fmt.Errorf("--seed-hex: %w", err)
				}
				info, err = k.open().ImportSeed(args[0], seed, pass)
				if err != nil {
					return err
				}
			case len(args) == 2:
				data, err := os.ReadFile(args[1])
				if err != nil {
					return err
				}
				oldPass := pass
				if filePass.file != "" {
					if oldPass, err = filePass.get(""); err != nil {
						return err
					}
				}
				if info, err = k.open().ImportFile(args[0], data, oldPass, pass); err != nil {
					return err
				}
			default:
				return fmt.Errorf("give an exported key FILE or --seed-hex")
			}
			return printKey(info)
		},
	}
	k.register(cmd, true)
	cmd.Flags().StringVar(&seedHex, "seed-hex", "", "import a raw 32-byte ed25519 seed given in hex")
	cmd.Flags().StringVar(&filePass.file, "file-passphrase-file", "", "passphrase of the exported file (default: the same as the new key's)")
	return cmd
}

func keysDeleteCmd() *cobra.Command {
	var k keyringFlags
	cmd := &cobra.Command{
		Use: "delete NAME", Short: "Delete a key file", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := k.open().Delete(args[0]); err != nil {
				return err
			}
			return emit(map[string]string{"deleted": args[0]}, func() string { return "deleted " + args[0] })
		},
	}
	k.register(cmd, false)
	return cmd
}
